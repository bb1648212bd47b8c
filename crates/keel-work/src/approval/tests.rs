use super::*;
use crate::condition::Op;
use proptest::prelude::*;

fn policy(yaml: &str) -> Document<PolicySpec> {
    serde_saphyr::from_str(yaml).unwrap()
}

fn standard() -> Vec<Document<PolicySpec>> {
    vec![
        policy(
            r#"
apiVersion: keel/v1
kind: Policy
metadata: {name: campaign-approvals}
spec:
  applies_to: [campaign_brief, email_send]
  order: 10
  rules:
    - name: executive-budget
      when: {field: budget, op: gte, value: 5000000}
      decide: escalate
      escalate_to: ["role:cmo"]
      reason: Budgets of 50,000 or more go to the CMO.
    - name: paid-media-finance
      when: {all: [{field: budget, op: gte, value: 1000000}, {field: channels, op: contains_any, value: [paid_social, paid_search]}]}
      decide: require_approval
      approvers: ["role:finance", "role:brand"]
      mode: all
      reason: Paid media over 10,000 needs finance and brand.
    - name: routine-email
      when: {all: [{field: budget, op: lt, value: 500000}, {field: channels, op: contains, value: email}, {not: {field: audience_size, op: gt, value: 250000}}]}
      decide: auto_approve
      reason: Routine email under 5,000 to a normal-sized audience.
"#,
        ),
        policy(
            r#"
apiVersion: keel/v1
kind: Policy
metadata: {name: baseline}
spec:
  order: 100
  rules:
    - name: interns-need-a-manager
      when: {field: requester_roles, op: contains, value: intern}
      decide: require_approval
      approvers: ["role:marketing-manager", "person:lena", "person:omar"]
      mode: quorum
      quorum: 2
      reason: Requests from interns need two managers.
    - name: everything-else
      decide: require_approval
      approvers: ["role:brand"]
      mode: any
      reason: Brand reviews anything policy did not settle.
"#,
        ),
    ]
}

fn facts(pairs: &[(&str, FactValue)]) -> Facts {
    let mut f = Facts::new();
    f.insert(
        "request_type".into(),
        FactValue::Str("campaign_brief".into()),
    );
    f.insert("requester".into(), FactValue::Str("ana".into()));
    f.insert(
        "requester_roles".into(),
        FactValue::Set(vec![FactValue::Str("marketer".into())]),
    );
    for (k, v) in pairs {
        f.insert((*k).into(), v.clone());
    }
    f
}

fn set(items: &[&str]) -> FactValue {
    FactValue::Set(items.iter().map(|s| FactValue::Str((*s).into())).collect())
}

#[test]
fn decision_table() {
    let p = ApprovalPolicies::compile(&standard()).unwrap();
    let int = FactValue::Int;
    let intern = ("requester_roles", set(&["intern"]));
    // (facts, expected rule, expected outcome word)
    let table: Vec<(Facts, &str, &str)> = vec![
        (
            facts(&[("budget", int(200_000)), ("channels", set(&["email"]))]),
            "campaign-approvals/routine-email",
            "auto_approve",
        ),
        (
            facts(&[
                ("budget", int(200_000)),
                ("channels", set(&["email"])),
                ("audience_size", int(900_000)),
            ]),
            "baseline/everything-else",
            "require_approval",
        ),
        (
            facts(&[
                ("budget", int(1_500_000)),
                ("channels", set(&["email", "paid_social"])),
            ]),
            "campaign-approvals/paid-media-finance",
            "require_approval",
        ),
        (
            facts(&[
                ("budget", int(9_000_000)),
                ("channels", set(&["paid_social"])),
            ]),
            "campaign-approvals/executive-budget",
            "escalate",
        ),
        (
            facts(&[
                ("budget", int(200_000)),
                ("channels", set(&["webinar"])),
                intern.clone(),
            ]),
            "baseline/interns-need-a-manager",
            "require_approval",
        ),
        (
            facts(&[("channels", set(&["email"]))]),
            "baseline/everything-else",
            "require_approval",
        ),
    ];
    for (i, (f, rule, outcome)) in table.iter().enumerate() {
        let d = p.decide(&format!("req-{i}"), f).unwrap();
        let got = format!(
            "{}/{}",
            d.policy.clone().unwrap_or_default(),
            d.rule.clone().unwrap_or_default()
        );
        assert_eq!(
            (got.as_str(), d.outcome.word()),
            (*rule, *outcome),
            "row {i}: {d:#?}"
        );
    }
}

#[test]
fn the_decision_records_facts_reason_and_other_matches() {
    let p = ApprovalPolicies::compile(&standard()).unwrap();
    let d = p
        .decide(
            "req-1",
            &facts(&[
                ("budget", FactValue::Int(1_500_000)),
                ("channels", set(&["paid_social"])),
            ]),
        )
        .unwrap();
    assert_eq!(
        d.outcome,
        Outcome::RequireApproval {
            approvers: vec![Party::Role("finance".into()), Party::Role("brand".into())],
            needed: Needed::All
        }
    );
    assert_eq!(d.reason, "Paid media over 10,000 needs finance and brand.");
    assert_eq!(
        d.condition.as_deref(),
        Some("budget ≥ 1000000 and channels contains any of [\"paid_social\", \"paid_search\"]")
    );
    assert_eq!(
        d.facts.keys().collect::<Vec<_>>(),
        vec!["budget", "channels", "request_type"]
    );
    assert_eq!(d.also_matched, vec!["baseline/everything-else"]);
}

#[test]
fn other_request_types_skip_scoped_policies_and_nothing_matching_is_undecided() {
    let docs = vec![standard().remove(0)];
    let p = ApprovalPolicies::compile(&docs).unwrap();
    let mut f = facts(&[
        ("budget", FactValue::Int(100)),
        ("channels", set(&["email"])),
    ]);
    f.insert("request_type".into(), FactValue::Str("data_pull".into()));
    let d = p.decide("req-9", &f).unwrap();
    assert_eq!(d.outcome, Outcome::Undecided);
    assert!(d.policy.is_none());
}

#[test]
fn a_rule_on_a_fact_of_the_wrong_type_does_not_apply_and_is_reported() {
    let p = ApprovalPolicies::compile(&standard()).unwrap();
    let d = p
        .decide(
            "req-2",
            &facts(&[
                ("budget", FactValue::Str("lots".into())),
                ("channels", set(&["email"])),
            ]),
        )
        .unwrap();
    assert_eq!(d.rule.as_deref(), Some("everything-else"));
    assert!(
        d.not_evaluable
            .contains(&"campaign-approvals/routine-email".to_owned()),
        "{d:#?}"
    );
}

#[test]
fn invalid_policies_report_every_problem() {
    let bad = policy(
        r#"
apiVersion: keel/v1
kind: Policy
metadata: {name: bad}
spec:
  rules:
    - name: a
      decide: require_approval
      mode: quorum
      quorum: 3
      approvers: ["role:x"]
      reason: ""
    - name: a
      decide: auto_approve
      approvers: ["role:x"]
      when: {field: budget, op: lt, value: "5k"}
      reason: r
    - name: c
      decide: escalate
      reason: r
"#,
    );
    let paths: Vec<_> = bad.validate().into_iter().map(|p| p.path).collect();
    assert_eq!(
        paths,
        vec![
            "spec.rules[1].name",
            "spec.rules[0].reason",
            "spec.rules[0].quorum",
            "spec.rules[1].when.value",
            "spec.rules[1].approvers",
            "spec.rules[2].escalate_to"
        ]
    );
    assert!(ApprovalPolicies::compile(&[bad]).is_err());
    let err = serde_saphyr::from_str::<Document<PolicySpec>>(
        "apiVersion: keel/v1\nkind: Policy\nmetadata: {name: x}\nspec: {rules: [], colour: red}\n",
    );
    assert!(err.is_err());
    let party = serde_saphyr::from_str::<Party>("\"boss\"")
        .unwrap_err()
        .to_string();
    assert!(party.contains("role:NAME"), "{party}");
}

#[test]
fn simulation_reports_changed_decisions() {
    let current = ApprovalPolicies::compile(&standard()).unwrap();
    let mut docs = standard();
    // Proposal: raise the auto-approval threshold for email from 5,000 to 20,000.
    if let Some(Condition::All(items)) = docs[0].spec.rules[2].when.as_mut()
        && let Some(Condition::Test(t)) = items.get_mut(0)
    {
        assert_eq!(t.op, Op::Lt);
        t.value = Some(FactValue::Int(2_000_000));
    }
    let proposed = ApprovalPolicies::compile(&docs).unwrap();
    let history: Vec<PastRequest> = [100_000, 700_000, 1_900_000, 2_500_000]
        .iter()
        .enumerate()
        .map(|(i, b)| PastRequest {
            id: format!("req-{i}"),
            facts: facts(&[
                ("budget", FactValue::Int(*b)),
                ("channels", set(&["email"])),
            ]),
        })
        .collect();
    let sim = simulate(&current, &proposed, &history).unwrap();
    assert_eq!(sim.replayed, 4);
    let changed: Vec<_> = sim.changed.iter().map(|c| c.request.as_str()).collect();
    assert_eq!(changed, vec!["req-1", "req-2"]);
    assert_eq!(sim.moves.get("require_approval → auto_approve"), Some(&2));
    assert_eq!(sim.changed[0].after.rule.as_deref(), Some("routine-email"));
}

#[test]
fn reject_and_order_between_policies() {
    let mut docs = standard();
    docs.push(policy(
        r#"
apiVersion: keel/v1
kind: Policy
metadata: {name: compliance}
spec:
  order: 1
  rules:
    - name: no-sms-without-consent-audience
      when: {all: [{field: channels, op: contains, value: sms}, {not: {field: audience, op: in, value: [sms-opted-in]}}]}
      decide: reject
      reason: SMS goes only to the opted-in audience.
"#,
    ));
    let p = ApprovalPolicies::compile(&docs).unwrap();
    let d = p
        .decide(
            "req-7",
            &facts(&[
                ("budget", FactValue::Int(100)),
                ("channels", set(&["sms", "email"])),
                ("audience", FactValue::Str("all-contacts".into())),
            ]),
        )
        .unwrap();
    // The compliance policy comes first by order even though the routine-email rule also holds.
    assert_eq!(
        (d.outcome.clone(), d.policy.as_deref()),
        (Outcome::Reject, Some("compliance"))
    );
    assert_eq!(
        d.also_matched,
        vec![
            "campaign-approvals/routine-email",
            "baseline/everything-else"
        ]
    );
    let ok = p
        .decide(
            "req-8",
            &facts(&[
                ("budget", FactValue::Int(100)),
                ("channels", set(&["sms"])),
                ("audience", FactValue::Str("sms-opted-in".into())),
            ]),
        )
        .unwrap();
    assert_ne!(ok.outcome, Outcome::Reject);
    // Two policies with one name are refused.
    let mut twice = standard();
    twice.push(standard().remove(1));
    assert!(
        ApprovalPolicies::compile(&twice)
            .unwrap_err()
            .to_string()
            .contains("another policy has this name")
    );
}

#[test]
fn cedar_text_is_readable() {
    let p = ApprovalPolicies::compile(&standard()).unwrap();
    assert!(p.cedar_text().contains("@id(\"baseline/everything-else\")\npermit(principal, action == Action::\"decide\", resource)\nwhen { true };"));
}

// The native evaluator (routing) and the Cedar compilation (approvals) must always agree.
fn any_fact() -> impl Strategy<Value = FactValue> {
    prop_oneof![
        any::<bool>().prop_map(FactValue::Bool),
        (-5i64..5).prop_map(FactValue::Int),
        prop::sample::select(vec!["a", "b", "c"]).prop_map(|s| FactValue::Str(s.into())),
        prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 0..3).prop_map(|v| {
            FactValue::Set(v.into_iter().map(|s| FactValue::Str(s.into())).collect())
        }),
    ]
}

fn any_test() -> impl Strategy<Value = Condition> {
    let field = prop::sample::select(vec!["x", "y", "z"]);
    let scalar = prop_oneof![
        (-5i64..5).prop_map(FactValue::Int),
        prop::sample::select(vec!["a", "b"]).prop_map(|s| FactValue::Str(s.into())),
        any::<bool>().prop_map(FactValue::Bool),
    ];
    let list = prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 0..3)
        .prop_map(|v| FactValue::Set(v.into_iter().map(|s| FactValue::Str(s.into())).collect()));
    prop_oneof![
        (
            field.clone(),
            prop::sample::select(vec![Op::Eq, Op::Ne, Op::Contains]),
            scalar
        )
            .prop_map(|(f, op, v)| (f, op, Some(v))),
        (
            field.clone(),
            prop::sample::select(vec![Op::Lt, Op::Lte, Op::Gt, Op::Gte]),
            (-5i64..5)
        )
            .prop_map(|(f, op, v)| (f, op, Some(FactValue::Int(v)))),
        (
            field.clone(),
            prop::sample::select(vec![Op::In, Op::NotIn, Op::ContainsAny, Op::ContainsAll]),
            list
        )
            .prop_map(|(f, op, v)| (f, op, Some(v))),
        (field, prop::sample::select(vec![Op::Exists, Op::Missing]))
            .prop_map(|(f, op)| (f, op, None)),
    ]
    .prop_map(|(f, op, value)| {
        Condition::Test(crate::condition::Test {
            field: f.into(),
            op,
            value,
        })
    })
}

fn any_condition() -> impl Strategy<Value = Condition> {
    any_test().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Condition::All),
            prop::collection::vec(inner.clone(), 0..3).prop_map(Condition::Any),
            inner.prop_map(|c| Condition::Not(Box::new(c))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]
    #[test]
    fn native_and_cedar_agree(cond in any_condition(), x in prop::option::of(any_fact()), y in prop::option::of(any_fact())) {
        let doc = Document {
            api_version: "keel/v1".into(),
            kind: "Policy".into(),
            metadata: crate::Metadata { name: "p".into(), title: None, description: None, owner: None },
            spec: PolicySpec {
                applies_to: vec![],
                order: 0,
                rules: vec![RuleSpec {
                    name: "r".into(), when: Some(cond.clone()), decide: Decide::AutoApprove,
                    approvers: vec![], mode: None, quorum: None, escalate_to: vec![], reason: "r".into(),
                }],
            },
        };
        let p = ApprovalPolicies::compile(&[doc]).unwrap();
        let mut f = Facts::new();
        if let Some(x) = x { f.insert("x".into(), x); }
        if let Some(y) = y { f.insert("y".into(), y); }
        let cedar = p.decide("r1", &f).unwrap().outcome == Outcome::AutoApprove;
        prop_assert_eq!(cond.matches(&f), cedar, "{}", cond.describe());
    }
}
