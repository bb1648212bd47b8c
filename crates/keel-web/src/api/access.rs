//! `/api/v1/me`, users, teams and API tokens.

use crate::AppState;
use crate::api::{Page, PageQuery};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::json::{ValidJson, ValidQuery};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use keel_accounts::{EmailAddress, Role, hash_password, new_api_token};
use keel_policy::Action;
use keel_store::accounts::{self, NewUser, UserChanges, UserWithRoles};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A user as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserOut {
    /// Id.
    pub id: i64,
    /// Login e-mail.
    pub email: String,
    /// Name.
    pub name: String,
    /// Whether the user may sign in.
    pub active: bool,
    /// Roles: admin, ops, requester, approver, privacy, finance, sales, viewer.
    #[schema(value_type = Vec<String>)]
    pub roles: Vec<Role>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

impl From<UserWithRoles> for UserOut {
    fn from(u: UserWithRoles) -> Self {
        UserOut {
            id: u.user.id,
            email: u.user.email,
            name: u.user.name,
            active: u.user.active,
            roles: u.roles,
            created_at: u.user.created_at,
        }
    }
}

/// The caller, with the roles in effect for this request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeOut {
    /// The user.
    pub user: UserOut,
    /// Roles in effect (narrower than the user's when a scoped token is used).
    #[schema(value_type = Vec<String>)]
    pub roles: Vec<Role>,
    /// `session` or `token`.
    pub authenticated_by: String,
    /// Every action the caller may perform.
    pub allowed_actions: Vec<String>,
}

/// Who am I?
#[utoipa::path(get, path = "/api/v1/me", tag = "access",
    responses((status = 200, body = MeOut), (status = 401, body = crate::error::Problem)))]
async fn me(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<MeOut>> {
    caller.require(&state, Action::MeRead)?;
    let allowed_actions = keel_policy::Action::ALL
        .into_iter()
        .filter(|a| caller.can(&state, *a))
        .map(|a| a.as_str().to_string())
        .collect();
    Ok(Json(MeOut {
        roles: caller.roles.clone(),
        authenticated_by: match caller.credential {
            crate::auth::Credential::Session { .. } => "session".into(),
            crate::auth::Credential::Token { .. } => "token".into(),
        },
        user: caller.user.into(),
        allowed_actions,
    }))
}

/// Filters for the user list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Matches name or e-mail (case-insensitive substring).
    pub q: Option<String>,
    /// Page size.
    pub limit: Option<i64>,
    /// Offset.
    pub offset: Option<i64>,
}

/// List users.
#[utoipa::path(get, path = "/api/v1/users", tag = "access", params(UserQuery),
    responses((status = 200, body = Page<UserOut>), (status = 403, body = crate::error::Problem)))]
async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    ValidQuery(query): ValidQuery<UserQuery>,
) -> ApiResult<Json<Page<UserOut>>> {
    caller.require(&state, Action::UsersManage)?;
    let (limit, offset) = PageQuery {
        limit: query.limit,
        offset: query.offset,
    }
    .resolve()?;
    let (users, total) =
        accounts::list_users(&state.store, query.q.as_deref(), limit, offset).await?;
    Ok(Json(Page {
        items: users.into_iter().map(UserOut::from).collect(),
        total,
        limit,
        offset,
    }))
}

/// A user to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Login e-mail.
    pub email: String,
    /// Name.
    pub name: String,
    /// Roles.
    pub roles: Vec<String>,
    /// Initial password (at least 10 characters); omit for users who will only use tokens.
    pub password: Option<String>,
}

fn parse_roles(raw: &[String], field: &str, errors: &mut Vec<FieldError>) -> Vec<Role> {
    let mut roles = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        match r.parse::<Role>() {
            Ok(role) => roles.push(role),
            Err(e) => errors.push(FieldError::new(format!("{field}[{i}]"), e.to_string())),
        }
    }
    roles
}

fn check_name(name: &str, errors: &mut Vec<FieldError>) {
    if name.trim().is_empty() {
        errors.push(FieldError::new("name", "must not be empty"));
    } else if name.chars().count() > 200 {
        errors.push(FieldError::new("name", "must be at most 200 characters"));
    }
}

/// Validates a new user, reporting every problem at once.
pub fn validate_new_user(input: &CreateUser) -> Result<NewUser, ApiError> {
    let mut errors = Vec::new();
    let email = EmailAddress::parse(&input.email)
        .map_err(|e| errors.push(FieldError::new("email", e.to_string())))
        .ok();
    check_name(&input.name, &mut errors);
    let roles = parse_roles(&input.roles, "roles", &mut errors);
    if input.roles.is_empty() {
        errors.push(FieldError::new("roles", "give at least one role"));
    }
    let password_hash = match &input.password {
        Some(p) => match hash_password(p) {
            Ok(h) => Some(h),
            Err(e) => {
                errors.push(FieldError::new("password", e.to_string()));
                None
            }
        },
        None => None,
    };
    match (email, errors.is_empty()) {
        (Some(email), true) => Ok(NewUser {
            email,
            name: input.name.trim().to_string(),
            password_hash,
            roles,
        }),
        _ => Err(ApiError::validation(errors)),
    }
}

/// Create a user.
#[utoipa::path(post, path = "/api/v1/users", tag = "access", request_body = CreateUser,
    responses((status = 201, body = UserOut), (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    ValidJson(input): ValidJson<CreateUser>,
) -> ApiResult<(StatusCode, Json<UserOut>)> {
    caller.require(&state, Action::UsersManage)?;
    let new = validate_new_user(&input)?;
    let user = accounts::create_user(&state.store, &caller.actor(), &new).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Get a user.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "access", params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = UserOut), (status = 404, body = crate::error::Problem)))]
async fn get_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<UserOut>> {
    if caller.user.user.id != id {
        caller.require(&state, Action::UsersManage)?;
    }
    Ok(Json(accounts::user(&state.store, id).await?.into()))
}

/// Changes to a user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    /// New name.
    pub name: Option<String>,
    /// Deactivate (false) or reactivate (true). Deactivating ends the user's sessions.
    pub active: Option<bool>,
    /// Replace roles.
    pub roles: Option<Vec<String>>,
    /// Set a new password.
    pub password: Option<String>,
}

/// Change a user.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "access", params(("id" = i64, Path, description = "User id")),
    request_body = UpdateUser,
    responses((status = 200, body = UserOut), (status = 404, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)))]
async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ValidJson(input): ValidJson<UpdateUser>,
) -> ApiResult<Json<UserOut>> {
    caller.require(&state, Action::UsersManage)?;
    let mut errors = Vec::new();
    if let Some(name) = &input.name {
        check_name(name, &mut errors);
    }
    let roles = input
        .roles
        .as_ref()
        .map(|r| parse_roles(r, "roles", &mut errors));
    if id == caller.user.user.id {
        if input.active == Some(false) {
            errors.push(FieldError::new("active", "you cannot deactivate yourself"));
        }
        if roles.as_ref().is_some_and(|r| !r.contains(&Role::Admin))
            && caller.user.roles.contains(&Role::Admin)
        {
            errors.push(FieldError::new(
                "roles",
                "you cannot remove your own admin role",
            ));
        }
    }
    let password_hash = match &input.password {
        Some(p) => hash_password(p)
            .map_err(|e| errors.push(FieldError::new("password", e.to_string())))
            .ok(),
        None => None,
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let changes = UserChanges {
        name: input.name,
        active: input.active,
        roles,
        password_hash,
    };
    Ok(Json(
        accounts::update_user(&state.store, &caller.actor(), id, &changes)
            .await?
            .into(),
    ))
}

/// A team with its members.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TeamOut {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// What the team does.
    pub description: String,
    /// Members.
    pub members: Vec<TeamMemberOut>,
}

/// A team member.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TeamMemberOut {
    /// User id.
    pub user_id: i64,
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
}

/// List teams with members.
#[utoipa::path(get, path = "/api/v1/teams", tag = "access", responses((status = 200, body = Vec<TeamOut>)))]
async fn list_teams(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<TeamOut>>> {
    caller.require(&state, Action::TeamsRead)?;
    let teams = accounts::list_teams(&state.store).await?;
    Ok(Json(
        teams
            .into_iter()
            .map(|t| TeamOut {
                id: t.team.id,
                name: t.team.name,
                description: t.team.description,
                members: t
                    .members
                    .into_iter()
                    .map(|m| TeamMemberOut {
                        user_id: m.user_id,
                        name: m.name,
                        email: m.email,
                    })
                    .collect(),
            })
            .collect(),
    ))
}

/// A team to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeam {
    /// Unique name.
    pub name: String,
    /// What the team does.
    #[serde(default)]
    pub description: String,
    /// Initial members (user ids).
    #[serde(default)]
    pub members: Vec<i64>,
}

/// Create a team.
#[utoipa::path(post, path = "/api/v1/teams", tag = "access", request_body = CreateTeam,
    responses((status = 201, body = TeamOut), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn create_team(
    State(state): State<AppState>,
    caller: Caller,
    ValidJson(input): ValidJson<CreateTeam>,
) -> ApiResult<(StatusCode, Json<TeamOut>)> {
    caller.require(&state, Action::TeamsManage)?;
    let mut errors = Vec::new();
    check_name(&input.name, &mut errors);
    let mut members = Vec::new();
    for (i, id) in input.members.iter().enumerate() {
        match accounts::user(&state.store, *id).await {
            Ok(u) => members.push(u),
            Err(_) => errors.push(FieldError::new(
                format!("members[{i}]"),
                format!("no user with id {id}"),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let team = accounts::create_team(
        &state.store,
        &caller.actor(),
        &input.name,
        &input.description,
    )
    .await?;
    for m in &members {
        accounts::add_team_member(&state.store, &caller.actor(), team.id, m.user.id).await?;
    }
    Ok((
        StatusCode::CREATED,
        Json(TeamOut {
            id: team.id,
            name: team.name,
            description: team.description,
            members: members
                .into_iter()
                .map(|m| TeamMemberOut {
                    user_id: m.user.id,
                    name: m.user.name,
                    email: m.user.email,
                })
                .collect(),
        }),
    ))
}

/// An API token (never its secret, except once in [`CreatedToken`]).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenOut {
    /// Id.
    pub id: i64,
    /// Owner.
    pub user_id: i64,
    /// What it is for.
    pub label: String,
    /// First characters, to recognise it.
    pub display_prefix: String,
    /// Roles it may use.
    #[schema(value_type = Vec<String>)]
    pub scopes: Vec<Role>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last used.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<accounts::ApiToken> for TokenOut {
    fn from(t: accounts::ApiToken) -> Self {
        TokenOut {
            scopes: t.scope_roles(),
            id: t.id,
            user_id: t.user_id,
            label: t.label,
            display_prefix: t.display_prefix,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// A newly created token with its secret, shown this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedToken {
    /// The token.
    pub token: TokenOut,
    /// The secret: send it as `Authorization: Bearer <secret>`. It cannot be shown again.
    pub secret: String,
}

/// Filters for the token list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// Admins only: list every user's tokens.
    pub all: Option<bool>,
}

/// List tokens (your own; admins may list all).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "access", params(TokenQuery), responses((status = 200, body = Vec<TokenOut>)))]
async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
    ValidQuery(query): ValidQuery<TokenQuery>,
) -> ApiResult<Json<Vec<TokenOut>>> {
    caller.require(&state, Action::TokensManageOwn)?;
    let user = if query.all == Some(true) {
        caller.require(&state, Action::UsersManage)?;
        None
    } else {
        Some(caller.user.user.id)
    };
    let tokens = accounts::list_tokens(&state.store, user).await?;
    Ok(Json(tokens.into_iter().map(TokenOut::from).collect()))
}

/// A token to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// What it is for, e.g. "CI import job".
    pub label: String,
    /// Roles the token may use; a subset of yours. Default: all of yours.
    pub scopes: Option<Vec<String>>,
}

/// Checks a token request and returns the scopes to grant.
pub fn validate_token_request(
    caller_roles: &[Role],
    label: &str,
    scopes: Option<&[String]>,
) -> Result<Vec<Role>, ApiError> {
    let mut errors = Vec::new();
    if label.trim().is_empty() {
        errors.push(FieldError::new("label", "must not be empty"));
    } else if label.chars().count() > 100 {
        errors.push(FieldError::new("label", "must be at most 100 characters"));
    }
    let scopes = match scopes {
        Some(raw) => {
            let roles = parse_roles(raw, "scopes", &mut errors);
            for (i, r) in roles.iter().enumerate() {
                if !caller_roles.contains(r) {
                    errors.push(FieldError::new(
                        format!("scopes[{i}]"),
                        format!("you do not hold the role `{r}`"),
                    ));
                }
            }
            roles
        }
        None => caller_roles.to_vec(),
    };
    if errors.is_empty() {
        Ok(scopes)
    } else {
        Err(ApiError::validation(errors))
    }
}

/// Create an API token for yourself. The secret is in the response and nowhere else.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "access", request_body = CreateToken,
    responses((status = 201, body = CreatedToken), (status = 422, body = crate::error::Problem)))]
async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ValidJson(input): ValidJson<CreateToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    caller.require(&state, Action::TokensManageOwn)?;
    let scopes = validate_token_request(&caller.roles, &input.label, input.scopes.as_deref())?;
    let secret = new_api_token();
    let token = accounts::create_token(
        &state.store,
        &caller.actor(),
        caller.user.user.id,
        &input.label,
        &scopes,
        &secret,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            token: token.into(),
            secret: secret.secret,
        }),
    ))
}

/// Revoke a token (your own; admins may revoke any).
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "access", params(("id" = i64, Path, description = "Token id")),
    responses((status = 200, body = TokenOut), (status = 404, body = crate::error::Problem)))]
async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<TokenOut>> {
    caller.require(&state, Action::TokensManageOwn)?;
    let token = accounts::token(&state.store, id).await?;
    if token.user_id != caller.user.user.id {
        caller.require(&state, Action::UsersManage)?;
    }
    Ok(Json(
        accounts::revoke_token(&state.store, &caller.actor(), id)
            .await?
            .into(),
    ))
}

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
        .routes(routes!(list_teams, create_team))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}
