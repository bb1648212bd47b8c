//! Data contract validation: every problem with its dotted path, and the shipped defaults.

use keel_contacts::contract::{DataContract, default_account_contract, default_contact_contract};
use keel_contacts::{FieldValue, Problem};

#[allow(clippy::unwrap_used)] // test helper
fn problems(yaml: &str) -> Vec<(String, String)> {
    DataContract::from_yaml(yaml)
        .unwrap()
        .validate()
        .into_iter()
        .map(|Problem { path, message }| (path, message))
        .collect()
}

#[test]
fn shipped_contracts_are_valid() {
    let c = default_contact_contract().unwrap();
    assert_eq!(c.name, "contacts");
    let a = default_account_contract().unwrap();
    assert_eq!(a.name, "accounts");
}

#[test]
fn validation_table() {
    let head = "apiVersion: keel/v1\nkind: DataContract\nmetadata: {name: t}\nspec:\n  object: contact\n  fields:\n";
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("    - {name: email, type: email}\n", vec![]),
        (
            "    - {name: a, type: string}\n    - {name: b, type: text}\n",
            vec![(
                "spec.fields[1].type",
                "type `text` is not one of: string, integer, decimal, boolean, date, datetime, email, phone, country, url, enum",
            )],
        ),
        (
            "    - {name: a, type: string}\n    - {name: a, type: string}\n",
            vec![(
                "spec.fields[1].name",
                "field `a` is declared more than once",
            )],
        ),
        (
            "    - {name: Email, type: email}\n",
            vec![(
                "spec.fields[0].name",
                "field name `Email` must be lower snake_case",
            )],
        ),
        (
            "    - {name: s, type: enum}\n",
            vec![(
                "spec.fields[0].values",
                "an `enum` field needs a list of values",
            )],
        ),
        (
            "    - {name: s, type: enum, values: [A, a], aliases: {x: B}}\n",
            vec![
                (
                    "spec.fields[0].values[1]",
                    "value `a` is listed more than once",
                ),
                (
                    "spec.fields[0].aliases.x",
                    "alias points to `B`, which is not one of the values",
                ),
            ],
        ),
        (
            "    - {name: s, type: string, values: [A], pattern: '(['}\n",
            vec![
                (
                    "spec.fields[0].pattern",
                    "not a valid regular expression: regex parse error:\n    ([\n     ^\nerror: unclosed character class",
                ),
                (
                    "spec.fields[0].values",
                    "values apply to `enum` fields only",
                ),
            ],
        ),
        (
            "    - {name: n, type: integer, min: 5, max: 1}\n",
            vec![("spec.fields[0].min", "min 5 is greater than max 1")],
        ),
        (
            "    - {name: n, type: string, min: 1}\n",
            vec![(
                "spec.fields[0].min",
                "min and max apply to `integer` and `decimal` fields only",
            )],
        ),
        (
            "    - {name: p, type: phone, default_region: ZZ}\n",
            vec![(
                "spec.fields[0].default_region",
                "`ZZ` is not an ISO 3166 alpha-2 phone region (e.g. `US`)",
            )],
        ),
        (
            "    - {name: p, type: string, normalise: [trim, e164]}\n",
            vec![(
                "spec.fields[0].normalise[1]",
                "`e164` is not a normalisation step (trim, collapse_whitespace, lower, upper, title); phones, countries, URLs and emails are normalised by their type",
            )],
        ),
        (
            "    - {name: d, type: string, formats: ['%Y']}\n",
            vec![(
                "spec.fields[0].formats",
                "formats apply to `date` and `datetime` fields only",
            )],
        ),
    ];
    for (fields, expected) in cases {
        let got = problems(&format!("{head}{fields}"));
        let expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(p, m)| (p.to_string(), m.to_string()))
            .collect();
        assert_eq!(got, expected, "for {fields}");
    }
}

#[test]
fn envelope_problems_all_at_once() {
    let got = problems(
        "apiVersion: keel/v2\nkind: Contract\nmetadata: {name: ''}\nspec:\n  object: lead\n  fields: []\n",
    );
    let paths: Vec<&str> = got.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "apiVersion",
            "kind",
            "metadata.name",
            "spec.object",
            "spec.fields"
        ]
    );
}

#[test]
fn unknown_keys_are_refused() {
    let err = DataContract::from_yaml(
        "apiVersion: keel/v1\nkind: DataContract\nmetadata: {name: t}\nspec:\n  object: contact\n  fields:\n    - {name: a, type: string, requried: true}\n",
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("unknown field `requried`"),
        "{err}"
    );
}

#[test]
fn check_value_for_synced_records() {
    let c = default_contact_contract().unwrap();
    assert!(
        c.check_value("email", &FieldValue::Text("a@b.com".into()))
            .is_ok()
    );
    assert_eq!(
        c.check_value("email", &FieldValue::Text("A@B.com".into()))
            .unwrap_err(),
        "value is not in canonical form (`a@b.com`)"
    );
    assert!(
        c.check_value("employees", &FieldValue::Text("5".into()))
            .is_err()
    );
    assert!(c.check_value("shoe_size", &FieldValue::Integer(5)).is_err());
}

#[test]
fn national_phone_numbers_are_read_in_the_rows_country() {
    let c = default_contact_contract().unwrap();
    let row = |country: &str, phone: &str| {
        [
            ("email", "a@b.com"),
            ("last_name", "B"),
            ("country", country),
            ("phone", phone),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    };
    let gb = c
        .check_row(&row("United Kingdom", "020 7946 0123"))
        .unwrap();
    assert_eq!(gb["phone"], FieldValue::Text("+442079460123".into()));
    // An unknown country falls back to the contract's default region (US); both reasons are reported.
    let err = c.check_row(&row("Atlantis", "020 7946 0123")).unwrap_err();
    let fields: Vec<&str> = err.iter().map(|r| r.field.as_str()).collect();
    assert_eq!(fields, vec!["phone", "country"]);
    let us = c.check_row(&row("", "(415) 555-2671")).unwrap();
    assert_eq!(us["phone"], FieldValue::Text("+14155552671".into()));
}
