//! Users, roles, teams, login sessions and API tokens.

use crate::audit::{self, state};
use crate::{Actor, DbRef, Result, Store, StoreError, now, sql};
use chrono::{DateTime, Duration, Utc};
use keel_accounts::{ApiTokenSecret, EmailAddress, Role, secret_digest};
use serde::Serialize;

/// A person who can sign in to Keel.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct User {
    /// Id.
    pub id: i64,
    /// Login e-mail (normalised).
    pub email: String,
    /// Display name.
    pub name: String,
    /// Whether the user may sign in.
    pub active: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A user with their roles.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserWithRoles {
    /// The user.
    #[serde(flatten)]
    pub user: User,
    /// Roles held.
    pub roles: Vec<Role>,
}

/// A new user.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login e-mail.
    pub email: EmailAddress,
    /// Display name.
    pub name: String,
    /// Argon2id hash, or `None` for a user who cannot sign in with a password.
    pub password_hash: Option<String>,
    /// Roles.
    pub roles: Vec<Role>,
}

/// A team of people.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Team {
    /// Id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// What the team does.
    pub description: String,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// A login session as stored (the session id itself is only in the cookie).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    /// The user signed in.
    pub user_id: i64,
    /// CSRF token bound to this session.
    pub csrf_token: String,
    /// When the session ends.
    pub expires_at: DateTime<Utc>,
}

/// An API token as stored and listed (never the secret).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ApiToken {
    /// Id.
    pub id: i64,
    /// Owner.
    pub user_id: i64,
    /// What it is for.
    pub label: String,
    /// The first characters of the secret.
    pub display_prefix: String,
    /// Roles the token may use, as a comma-separated list (a subset of the owner's roles).
    pub scopes: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last used.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// The roles this token is scoped to.
    pub fn scope_roles(&self) -> Vec<Role> {
        self.scopes
            .split(',')
            .filter_map(|s| s.parse().ok())
            .collect()
    }
}

#[derive(sqlx::FromRow)]
struct RoleRow {
    user_id: i64,
    role: String,
}

async fn roles_of<'a>(db: impl Into<DbRef<'a>>, user_ids: &[i64]) -> Result<Vec<(i64, Role)>> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=user_ids.len()).map(|i| format!("${i}")).collect();
    let mut q = sql(format!(
        "SELECT user_id, role FROM user_roles WHERE user_id IN ({}) ORDER BY user_id, role",
        placeholders.join(", ")
    ));
    for id in user_ids {
        q = q.bind(*id);
    }
    let rows: Vec<RoleRow> = q.fetch_all(db).await?;
    rows.into_iter()
        .map(|r| {
            r.role
                .parse::<Role>()
                .map(|role| (r.user_id, role))
                .map_err(|e| StoreError::Corrupt(e.to_string()))
        })
        .collect()
}

/// Creates a user with roles, audited.
pub async fn create_user(store: &Store, actor: &Actor, new: &NewUser) -> Result<UserWithRoles> {
    let mut tx = store.begin().await?;
    let at = now();
    let inserted = sql("INSERT INTO users (email, name, password_hash, active, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, email, name, active, created_at, updated_at")
        .bind(new.email.as_str())
        .bind(new.name.trim())
        .bind(new.password_hash.clone())
        .bind(true)
        .bind(at)
        .bind(at)
        .fetch_one::<User>(&mut tx)
        .await;
    let user = match inserted {
        Ok(u) => u,
        Err(e) if e.is_unique_violation() => {
            return Err(StoreError::Conflict(format!(
                "a user with e-mail {} already exists",
                new.email
            )));
        }
        Err(e) => return Err(e),
    };
    let mut roles = new.roles.clone();
    roles.sort();
    roles.dedup();
    for role in &roles {
        sql("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
            .bind(user.id)
            .bind(role.as_str())
            .execute(&mut tx)
            .await?;
    }
    let created = UserWithRoles { user, roles };
    audit::record(
        &mut tx,
        actor,
        "create",
        "user",
        created.user.id,
        None,
        Some(state(&created)?),
    )
    .await?;
    tx.commit().await?;
    Ok(created)
}

/// Finds a user by id with roles.
pub async fn user<'a>(db: impl Into<DbRef<'a>>, id: i64) -> Result<UserWithRoles> {
    let mut db = db.into();
    let user: User =
        sql("SELECT id, email, name, active, created_at, updated_at FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(db.reborrow())
            .await?
            .ok_or_else(|| StoreError::NotFound {
                entity: "user",
                id: id.to_string(),
            })?;
    let roles = roles_of(db, &[id])
        .await?
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    Ok(UserWithRoles { user, roles })
}

/// Finds a user and their password hash by e-mail, for sign-in.
pub async fn user_for_login(
    store: &Store,
    email: &EmailAddress,
) -> Result<Option<(UserWithRoles, Option<String>)>> {
    let row: Option<(i64, Option<String>)> =
        sql("SELECT id, password_hash FROM users WHERE email = $1")
            .bind(email.as_str())
            .fetch_optional(store)
            .await?;
    match row {
        Some((id, hash)) => Ok(Some((user(store, id).await?, hash))),
        None => Ok(None),
    }
}

/// Finds a user by e-mail.
pub async fn user_by_email(store: &Store, email: &EmailAddress) -> Result<Option<UserWithRoles>> {
    Ok(user_for_login(store, email).await?.map(|(u, _)| u))
}

/// Lists users (optionally matching `q` in name or e-mail) with the total count.
pub async fn list_users(
    store: &Store,
    q: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<UserWithRoles>, i64)> {
    let pattern = format!("%{}%", q.unwrap_or("").trim().to_lowercase());
    let total: i64 = sql("SELECT COUNT(*) FROM users WHERE LOWER(name) LIKE $1 OR email LIKE $1")
        .bind(&pattern)
        .fetch_scalar(store)
        .await?;
    let users: Vec<User> = sql("SELECT id, email, name, active, created_at, updated_at FROM users WHERE LOWER(name) LIKE $1 OR email LIKE $1 ORDER BY name, id LIMIT $2 OFFSET $3")
        .bind(&pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(store)
        .await?;
    let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
    let roles = roles_of(store, &ids).await?;
    let out = users
        .into_iter()
        .map(|user| {
            let r = roles
                .iter()
                .filter(|(uid, _)| *uid == user.id)
                .map(|(_, r)| *r)
                .collect();
            UserWithRoles { user, roles: r }
        })
        .collect();
    Ok((out, total))
}

/// Counts users (the demo seeds only an empty database).
pub async fn count_users(store: &Store) -> Result<i64> {
    sql("SELECT COUNT(*) FROM users").fetch_scalar(store).await
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    /// New name.
    pub name: Option<String>,
    /// Activate or deactivate.
    pub active: Option<bool>,
    /// Replace the roles.
    pub roles: Option<Vec<Role>>,
    /// Replace the password hash.
    pub password_hash: Option<String>,
}

/// Updates a user, audited with before and after. Deactivating ends their sessions.
pub async fn update_user(
    store: &Store,
    actor: &Actor,
    id: i64,
    changes: &UserChanges,
) -> Result<UserWithRoles> {
    let mut tx = store.begin().await?;
    let before = user(&mut tx, id).await?;
    let at = now();
    if let Some(name) = &changes.name {
        sql("UPDATE users SET name = $1, updated_at = $2 WHERE id = $3")
            .bind(name.trim())
            .bind(at)
            .bind(id)
            .execute(&mut tx)
            .await?;
    }
    if let Some(active) = changes.active {
        sql("UPDATE users SET active = $1, updated_at = $2 WHERE id = $3")
            .bind(active)
            .bind(at)
            .bind(id)
            .execute(&mut tx)
            .await?;
        if !active {
            sql("DELETE FROM sessions WHERE user_id = $1")
                .bind(id)
                .execute(&mut tx)
                .await?;
        }
    }
    if let Some(hash) = &changes.password_hash {
        sql("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(hash)
            .bind(at)
            .bind(id)
            .execute(&mut tx)
            .await?;
    }
    if let Some(roles) = &changes.roles {
        sql("DELETE FROM user_roles WHERE user_id = $1")
            .bind(id)
            .execute(&mut tx)
            .await?;
        let mut roles = roles.clone();
        roles.sort();
        roles.dedup();
        for role in roles {
            sql("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
                .bind(id)
                .bind(role.as_str())
                .execute(&mut tx)
                .await?;
        }
    }
    let after = user(&mut tx, id).await?;
    let mut after_state = state(&after)?;
    if changes.password_hash.is_some() {
        after_state["password_changed"] = serde_json::Value::Bool(true);
    }
    audit::record(
        &mut tx,
        actor,
        "update",
        "user",
        id,
        Some(state(&before)?),
        Some(after_state),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Creates a team, audited.
pub async fn create_team(
    store: &Store,
    actor: &Actor,
    name: &str,
    description: &str,
) -> Result<Team> {
    let mut tx = store.begin().await?;
    let team = sql("INSERT INTO teams (name, description, created_at) VALUES ($1, $2, $3) RETURNING id, name, description, created_at")
        .bind(name.trim())
        .bind(description.trim())
        .bind(now())
        .fetch_one::<Team>(&mut tx)
        .await
        .map_err(|e| {
            if e.is_unique_violation() {
                StoreError::Conflict(format!("a team named {name} already exists"))
            } else {
                e
            }
        })?;
    audit::record(
        &mut tx,
        actor,
        "create",
        "team",
        team.id,
        None,
        Some(state(&team)?),
    )
    .await?;
    tx.commit().await?;
    Ok(team)
}

/// Adds a member to a team, audited.
pub async fn add_team_member(
    store: &Store,
    actor: &Actor,
    team_id: i64,
    user_id: i64,
) -> Result<()> {
    let mut tx = store.begin().await?;
    sql("INSERT INTO team_members (team_id, user_id) VALUES ($1, $2)")
        .bind(team_id)
        .bind(user_id)
        .execute(&mut tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        "add_member",
        "team",
        team_id,
        None,
        Some(serde_json::json!({"user_id": user_id})),
    )
    .await?;
    tx.commit().await
}

/// A team with its members.
#[derive(Debug, Clone, Serialize)]
pub struct TeamWithMembers {
    /// The team.
    #[serde(flatten)]
    pub team: Team,
    /// Members (id, name, e-mail).
    pub members: Vec<TeamMember>,
}

/// A member of a team.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TeamMember {
    /// Team.
    pub team_id: i64,
    /// User id.
    pub user_id: i64,
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
}

/// Lists teams with their members.
pub async fn list_teams(store: &Store) -> Result<Vec<TeamWithMembers>> {
    let teams: Vec<Team> = sql("SELECT id, name, description, created_at FROM teams ORDER BY name")
        .fetch_all(store)
        .await?;
    let members: Vec<TeamMember> = sql("SELECT m.team_id, u.id AS user_id, u.name, u.email FROM team_members m JOIN users u ON u.id = m.user_id ORDER BY u.name")
        .fetch_all(store)
        .await?;
    Ok(teams
        .into_iter()
        .map(|team| TeamWithMembers {
            members: members
                .iter()
                .filter(|m| m.team_id == team.id)
                .cloned()
                .collect(),
            team,
        })
        .collect())
}

/// How long a login session lasts.
pub const SESSION_LIFETIME_HOURS: i64 = 12;

/// Starts a login session; returns the stored session. The caller keeps the secret for the cookie.
pub async fn create_session(
    store: &Store,
    user_id: i64,
    session_secret: &str,
    csrf_token: &str,
) -> Result<Session> {
    let mut tx = store.begin().await?;
    let at = now();
    let expires_at = at + Duration::hours(SESSION_LIFETIME_HOURS);
    sql("INSERT INTO sessions (id_digest, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(secret_digest(session_secret))
        .bind(user_id)
        .bind(csrf_token)
        .bind(at)
        .bind(expires_at)
        .execute(&mut tx)
        .await?;
    audit::record(
        &mut tx,
        &Actor::User(user_id),
        "login",
        "user",
        user_id,
        None,
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(Session {
        user_id,
        csrf_token: csrf_token.to_string(),
        expires_at,
    })
}

/// Looks up a live session by the secret from the cookie.
pub async fn session(store: &Store, session_secret: &str) -> Result<Option<Session>> {
    sql("SELECT s.user_id, s.csrf_token, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_digest = $1 AND s.expires_at > $2 AND u.active = $3")
        .bind(secret_digest(session_secret))
        .bind(now())
        .bind(true)
        .fetch_optional(store)
        .await
}

/// Ends a session.
pub async fn delete_session(store: &Store, session_secret: &str) -> Result<()> {
    let mut tx = store.begin().await?;
    let user_id: Option<i64> = sql("DELETE FROM sessions WHERE id_digest = $1 RETURNING user_id")
        .bind(secret_digest(session_secret))
        .fetch_optional_scalar(&mut tx)
        .await?;
    if let Some(uid) = user_id {
        audit::record(
            &mut tx,
            &Actor::User(uid),
            "logout",
            "user",
            uid,
            None,
            None,
        )
        .await?;
    }
    tx.commit().await
}

/// Removes expired sessions (a periodic job); returns how many.
pub async fn purge_expired_sessions(store: &Store) -> Result<u64> {
    sql("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now())
        .execute(store)
        .await
}

/// Stores a new API token for `user_id` scoped to `scopes`, audited. The secret is not stored.
pub async fn create_token(
    store: &Store,
    actor: &Actor,
    user_id: i64,
    label: &str,
    scopes: &[Role],
    secret: &ApiTokenSecret,
) -> Result<ApiToken> {
    let mut tx = store.begin().await?;
    let scopes: Vec<&str> = scopes.iter().map(|r| r.as_str()).collect();
    let token = sql("INSERT INTO api_tokens (user_id, label, digest, display_prefix, scopes, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, user_id, label, display_prefix, scopes, created_at, last_used_at, revoked_at")
        .bind(user_id)
        .bind(label.trim())
        .bind(&secret.digest)
        .bind(&secret.display_prefix)
        .bind(scopes.join(","))
        .bind(now())
        .fetch_one::<ApiToken>(&mut tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        "create",
        "api_token",
        token.id,
        None,
        Some(state(&token)?),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// Finds a live token by its secret and marks it used.
pub async fn token_by_secret(store: &Store, secret: &str) -> Result<Option<ApiToken>> {
    let token: Option<ApiToken> = sql("SELECT t.id, t.user_id, t.label, t.display_prefix, t.scopes, t.created_at, t.last_used_at, t.revoked_at FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.digest = $1 AND t.revoked_at IS NULL AND u.active = $2")
        .bind(secret_digest(secret))
        .bind(true)
        .fetch_optional(store)
        .await?;
    if let Some(t) = &token {
        // Only touch the row when the recorded time is stale, so busy API clients do not turn
        // every read into a write.
        let stale = t
            .last_used_at
            .is_none_or(|at| now() - at > Duration::minutes(5));
        if stale {
            sql("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now())
                .bind(t.id)
                .execute(store)
                .await?;
        }
    }
    Ok(token)
}

/// Lists tokens, of one user or of everyone.
pub async fn list_tokens(store: &Store, user_id: Option<i64>) -> Result<Vec<ApiToken>> {
    let base = "SELECT id, user_id, label, display_prefix, scopes, created_at, last_used_at, revoked_at FROM api_tokens";
    match user_id {
        Some(uid) => {
            sql(format!(
                "{base} WHERE user_id = $1 ORDER BY created_at DESC"
            ))
            .bind(uid)
            .fetch_all(store)
            .await
        }
        None => {
            sql(format!("{base} ORDER BY created_at DESC"))
                .fetch_all(store)
                .await
        }
    }
}

/// Finds one token.
pub async fn token(store: &Store, id: i64) -> Result<ApiToken> {
    sql("SELECT id, user_id, label, display_prefix, scopes, created_at, last_used_at, revoked_at FROM api_tokens WHERE id = $1")
        .bind(id)
        .fetch_optional(store)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            entity: "API token",
            id: id.to_string(),
        })
}

/// Revokes a token, audited. Revoking twice is a no-op.
pub async fn revoke_token(store: &Store, actor: &Actor, id: i64) -> Result<ApiToken> {
    let before = token(store, id).await?;
    if before.revoked_at.is_some() {
        return Ok(before);
    }
    let mut tx = store.begin().await?;
    let after = sql("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 RETURNING id, user_id, label, display_prefix, scopes, created_at, last_used_at, revoked_at")
        .bind(now())
        .bind(id)
        .fetch_one::<ApiToken>(&mut tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        "revoke",
        "api_token",
        id,
        Some(state(&before)?),
        Some(state(&after)?),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}
