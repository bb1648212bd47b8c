//! The one policy mechanism of Keel.
//!
//! Every permission decision — which role may do which action — is made by the Cedar policy
//! engine over the table in `permissions.cedar`. Approval policies use the same engine through
//! [`PolicyEngine`], so "who may" and "what is auto-approved" are answered by one machinery and
//! every answer names the policy that made it.

use cedar_policy::{
    AuthorizationError, Authorizer, Context, Decision as CedarDecision, Entities, Entity,
    EntityUid, PolicyId, PolicySet, Request,
};
use keel_accounts::Role;
use std::collections::{HashMap, HashSet};
use std::str::FromStr;

/// Errors of the policy mechanism.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// A policy text did not parse.
    #[error("policy does not parse: {0}")]
    Parse(String),
    /// An entity id or request could not be built.
    #[error("invalid policy request: {0}")]
    Request(String),
}

/// Something Keel lets people do. Each endpoint and page names exactly one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See one's own account.
    MeRead,
    /// Create and revoke one's own API tokens.
    TokensManageOwn,
    /// Manage users, roles and every token.
    UsersManage,
    /// Manage teams.
    TeamsManage,
    /// See teams and their members.
    TeamsRead,
    /// Read the audit log and verify it.
    AuditRead,
    /// See background jobs.
    JobsRead,
    /// Retry or cancel background jobs.
    JobsManage,
    /// Read the stack catalog.
    CatalogRead,
    /// Change the stack catalog.
    CatalogWrite,
    /// Read requests.
    RequestsRead,
    /// Submit requests.
    RequestsSubmit,
    /// Move requests through their workflow.
    RequestsManage,
    /// Decide approvals that policy could not.
    ApprovalsDecide,
    /// Read the campaign calendar.
    CalendarRead,
    /// Read contacts.
    ContactsRead,
    /// Change contacts.
    ContactsWrite,
    /// Run imports.
    ImportsRun,
    /// Manage consent, subject requests and retention.
    PrivacyManage,
    /// Rotate the key that signs privacy links (administrators only).
    PrivacyKeysManage,
    /// Read ingested events.
    EventsRead,
    /// Read attribution results.
    AttributionRead,
    /// Run email and page checks.
    ChecksRun,
    /// Change assets.
    AssetsWrite,
    /// Budgets, purchase orders, invoices.
    FinanceManage,
    /// Accept or reject MQLs.
    SalesHandoff,
    /// Read dashboards.
    DashboardsRead,
}

impl Action {
    /// Every action, for tables and tests.
    pub const ALL: [Action; 27] = [
        Action::MeRead,
        Action::TokensManageOwn,
        Action::UsersManage,
        Action::TeamsManage,
        Action::TeamsRead,
        Action::AuditRead,
        Action::JobsRead,
        Action::JobsManage,
        Action::CatalogRead,
        Action::CatalogWrite,
        Action::RequestsRead,
        Action::RequestsSubmit,
        Action::RequestsManage,
        Action::ApprovalsDecide,
        Action::CalendarRead,
        Action::ContactsRead,
        Action::ContactsWrite,
        Action::ImportsRun,
        Action::PrivacyManage,
        Action::PrivacyKeysManage,
        Action::EventsRead,
        Action::AttributionRead,
        Action::ChecksRun,
        Action::AssetsWrite,
        Action::FinanceManage,
        Action::SalesHandoff,
        Action::DashboardsRead,
    ];

    /// The action's name in the policy files.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::MeRead => "me.read",
            Action::TokensManageOwn => "tokens.manage_own",
            Action::UsersManage => "users.manage",
            Action::TeamsManage => "teams.manage",
            Action::TeamsRead => "teams.read",
            Action::AuditRead => "audit.read",
            Action::JobsRead => "jobs.read",
            Action::JobsManage => "jobs.manage",
            Action::CatalogRead => "catalog.read",
            Action::CatalogWrite => "catalog.write",
            Action::RequestsRead => "requests.read",
            Action::RequestsSubmit => "requests.submit",
            Action::RequestsManage => "requests.manage",
            Action::ApprovalsDecide => "approvals.decide",
            Action::CalendarRead => "calendar.read",
            Action::ContactsRead => "contacts.read",
            Action::ContactsWrite => "contacts.write",
            Action::ImportsRun => "imports.run",
            Action::PrivacyManage => "privacy.manage",
            Action::PrivacyKeysManage => "privacy.keys_manage",
            Action::EventsRead => "events.read",
            Action::AttributionRead => "attribution.read",
            Action::ChecksRun => "checks.run",
            Action::AssetsWrite => "assets.write",
            Action::FinanceManage => "finance.manage",
            Action::SalesHandoff => "sales.handoff",
            Action::DashboardsRead => "dashboards.read",
        }
    }
}

/// Who is asking: a user (or an API token acting for one) and the roles in effect.
#[derive(Debug, Clone)]
pub struct Principal {
    /// Stable id, e.g. the user id.
    pub id: String,
    /// Roles in effect for this request (a scoped token narrows them).
    pub roles: Vec<Role>,
}

/// The outcome of a policy question, with the policies that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Whether the action is allowed.
    pub allowed: bool,
    /// The `@id` of every policy that determined the outcome (empty when nothing permitted it).
    pub determined_by: Vec<String>,
    /// The `@id` of every policy whose condition could not be evaluated on this request (for
    /// example a number compared with text). Cedar skips such a policy, so it neither permits
    /// nor forbids; callers that explain decisions report it.
    pub errored: Vec<String>,
}

/// A set of Cedar policies evaluated against entities built from Keel's data.
pub struct PolicyEngine {
    policies: PolicySet,
    authorizer: Authorizer,
}

impl std::fmt::Debug for PolicyEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyEngine")
            .field("policies", &self.policies.policies().count())
            .finish()
    }
}

fn uid(kind: &str, id: &str) -> Result<EntityUid, PolicyError> {
    let escaped = id.replace('\\', "\\\\").replace('"', "\\\"");
    EntityUid::from_str(&format!("{kind}::\"{escaped}\""))
        .map_err(|e| PolicyError::Request(e.to_string()))
}

impl PolicyEngine {
    /// Parses a policy set written in the Cedar language.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let policies = PolicySet::from_str(text).map_err(|e| PolicyError::Parse(e.to_string()))?;
        Ok(PolicyEngine {
            policies,
            authorizer: Authorizer::new(),
        })
    }

    /// The number of policies in the set.
    pub fn len(&self) -> usize {
        self.policies.policies().count()
    }

    /// Whether the set has no policies.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Asks whether `principal` may perform `action` (a Cedar `Action` id) on `resource`
    /// (`(type, id)`), with `context` facts given as a JSON object (arrays become Cedar sets,
    /// objects records, whole numbers longs).
    pub fn evaluate(
        &self,
        principal: &Principal,
        action: &str,
        resource: (&str, &str),
        context: serde_json::Value,
    ) -> Result<Decision, PolicyError> {
        let principal_uid = uid("User", &principal.id)?;
        let mut parents = HashSet::new();
        let mut entities = Vec::new();
        for role in &principal.roles {
            let role_uid = uid("Role", role.as_str())?;
            parents.insert(role_uid.clone());
            entities.push(Entity::new_no_attrs(role_uid, HashSet::new()));
        }
        entities.push(Entity::new_no_attrs(principal_uid.clone(), parents));
        let entities = Entities::from_entities(entities, None)
            .map_err(|e| PolicyError::Request(e.to_string()))?;
        let context = Context::from_json_value(context, None)
            .map_err(|e| PolicyError::Request(e.to_string()))?;
        let request = Request::new(
            principal_uid,
            uid("Action", action)?,
            uid(resource.0, resource.1)?,
            context,
            None,
        )
        .map_err(|e| PolicyError::Request(e.to_string()))?;
        let response = self
            .authorizer
            .is_authorized(&request, &self.policies, &entities);
        let name = |policy_id: &PolicyId| {
            self.policies
                .policy(policy_id)
                .and_then(|p| p.annotation("id").map(str::to_string))
                .unwrap_or_else(|| policy_id.to_string())
        };
        let determined_by = response.diagnostics().reason().map(name).collect();
        let errored = response
            .diagnostics()
            .errors()
            .map(|AuthorizationError::PolicyEvaluationError(e)| name(e.policy_id()))
            .collect();
        Ok(Decision {
            allowed: response.decision() == CedarDecision::Allow,
            determined_by,
            errored,
        })
    }
}

/// Keel's permission table, loaded once at start-up.
#[derive(Debug)]
pub struct Permissions {
    engine: PolicyEngine,
    cache: std::sync::RwLock<HashMap<(Vec<Role>, Action), bool>>,
}

/// The permission table shipped with Keel.
pub const PERMISSIONS_POLICY: &str = include_str!("permissions.cedar");

impl Permissions {
    /// Loads the built-in permission table.
    pub fn builtin() -> Result<Self, PolicyError> {
        Ok(Permissions {
            engine: PolicyEngine::parse(PERMISSIONS_POLICY)?,
            cache: std::sync::RwLock::new(HashMap::new()),
        })
    }

    /// Decides whether `principal` may perform `action`. Fails closed: any evaluation error denies.
    pub fn allows(&self, principal: &Principal, action: Action) -> bool {
        let mut roles = principal.roles.clone();
        roles.sort();
        roles.dedup();
        // Decisions depend only on the set of roles, so they are memoised per role set.
        if let Some(hit) = self
            .cache
            .read()
            .ok()
            .and_then(|cache| cache.get(&(roles.clone(), action)).copied())
        {
            return hit;
        }
        let allowed = self
            .decide(principal, action)
            .map(|d| d.allowed)
            .unwrap_or(false);
        if let Ok(mut cache) = self.cache.write() {
            cache.insert((roles, action), allowed);
        }
        allowed
    }

    /// Decides with the deciding policies named (for explanations and the audit log).
    pub fn decide(&self, principal: &Principal, action: Action) -> Result<Decision, PolicyError> {
        self.engine.evaluate(
            principal,
            action.as_str(),
            ("Workspace", "keel"),
            serde_json::json!({}),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(roles: &[Role]) -> Principal {
        Principal {
            id: "7".into(),
            roles: roles.to_vec(),
        }
    }

    #[test]
    fn admin_may_do_everything() {
        let p = Permissions::builtin().unwrap();
        for action in Action::ALL {
            assert!(p.allows(&who(&[Role::Admin]), action), "{action:?}");
        }
        let d = p.decide(&who(&[Role::Admin]), Action::UsersManage).unwrap();
        assert_eq!(d.determined_by, vec!["admin-everything".to_string()]);
    }

    #[test]
    fn no_roles_gets_only_the_basics() {
        let p = Permissions::builtin().unwrap();
        assert!(p.allows(&who(&[]), Action::MeRead));
        assert!(!p.allows(&who(&[]), Action::UsersManage));
        assert!(!p.allows(&who(&[Role::Viewer]), Action::CatalogWrite));
        assert!(p.allows(&who(&[Role::Ops]), Action::CatalogWrite));
        assert!(p.allows(&who(&[Role::Privacy]), Action::AuditRead));
        assert!(!p.allows(&who(&[Role::Sales]), Action::AuditRead));
    }

    #[test]
    fn engine_evaluates_context_for_approval_style_policies() {
        let engine = PolicyEngine::parse(
            r#"@id("small-budget")
               permit(principal, action == Action::"approve", resource)
               when { context.budget < 5000 };"#,
        )
        .unwrap();
        let small = engine
            .evaluate(
                &who(&[]),
                "approve",
                ("Request", "1"),
                serde_json::json!({"budget": 100}),
            )
            .unwrap();
        assert!(small.allowed);
        assert_eq!(small.determined_by, vec!["small-budget".to_string()]);
        let big = engine
            .evaluate(
                &who(&[]),
                "approve",
                ("Request", "1"),
                serde_json::json!({"budget": 9000}),
            )
            .unwrap();
        assert!(!big.allowed);
        assert!(big.errored.is_empty());
        let text = engine
            .evaluate(
                &who(&[]),
                "approve",
                ("Request", "1"),
                serde_json::json!({"budget": "lots"}),
            )
            .unwrap();
        assert!(!text.allowed);
        assert_eq!(text.errored, vec!["small-budget".to_string()]);
    }
}
