use super::*;
use std::time::Instant;

fn doc(json: &str) -> PolicyDocument {
    PolicyDocument::parse(json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

fn trust(json: &str) -> PolicyDocument {
    PolicyDocument::parse_trust(json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

fn ctx(pairs: &[(&str, &str)]) -> Context {
    let mut c = Context::new();
    for (k, v) in pairs {
        c.insert(k, *v);
    }
    c
}

fn decide(
    policies: &[(&str, &PolicyDocument)],
    session: Option<&PolicyDocument>,
    action: &str,
    resource: &str,
    context: &Context,
) -> Decision {
    evaluate(
        policies,
        session,
        &Request {
            action,
            resource,
            principal: None,
            context,
        },
    )
}

fn allowed(policy: &PolicyDocument, action: &str, resource: &str, context: &Context) -> bool {
    decide(&[("p", policy)], None, action, resource, context).allowed
}

/// One Allow statement on everything, guarded by `condition`.
fn conditional(condition: &str) -> PolicyDocument {
    doc(&format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{condition}}}}}"#
    ))
}

fn statement(policy: &str, index: usize, sid: Option<&str>) -> Option<StatementRef> {
    Some(StatementRef {
        policy: policy.into(),
        index,
        sid: sid.map(str::to_owned),
    })
}

const READ_BUCKET: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:List*"],
         "Resource": "arn:signet:s3:::bucket/*"}
    ]
}"#;

#[test]
fn allow_and_default_deny() {
    let p = doc(READ_BUCKET);
    let c = Context::new();
    assert_eq!(
        decide(
            &[("read", &p)],
            None,
            "s3:GetObject",
            "arn:signet:s3:::bucket/a/b.txt",
            &c
        ),
        Decision {
            allowed: true,
            reason: Reason::Allowed,
            decided_by: statement("read", 0, Some("Read")),
        }
    );
    let cases = [
        ("s3:GetObject", "arn:signet:s3:::bucket/x", true),
        ("s3:ListBucket", "arn:signet:s3:::bucket/x", true),
        ("s3:PutObject", "arn:signet:s3:::bucket/x", false),
        ("s3:GetObject", "arn:signet:s3:::other/x", false),
        ("s3:GetObject", "arn:signet:s3:::bucket", false),
        ("s3:GetObjectAcl", "arn:signet:s3:::bucket/x", false),
    ];
    for (action, resource, expected) in cases {
        assert_eq!(
            allowed(&p, action, resource, &c),
            expected,
            "{action} {resource}"
        );
    }
    assert_eq!(
        decide(
            &[("read", &p)],
            None,
            "s3:PutObject",
            "arn:signet:s3:::bucket/x",
            &c
        ),
        Decision {
            allowed: false,
            reason: Reason::ImplicitDeny,
            decided_by: None,
        }
    );
    // No policies, or an empty one, deny everything.
    assert!(!decide(&[], None, "s3:GetObject", "x", &c).allowed);
    let empty = doc(r#"{"Statement": []}"#);
    assert_eq!(
        decide(&[("empty", &empty)], None, "s3:GetObject", "x", &c).reason,
        Reason::ImplicitDeny
    );
}

#[test]
fn explicit_deny_beats_allow_across_policies() {
    let allow = doc(r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#);
    let deny = doc(r#"{"Statement":[
            {"Effect":"Allow","Action":"s3:*","Resource":"*"},
            {"Sid":"NoDelete","Effect":"Deny","Action":"s3:Delete*","Resource":"arn:signet:s3:::bucket/*"}
        ]}"#);
    let c = Context::new();
    let d = decide(
        &[("admin", &allow), ("guard", &deny)],
        None,
        "s3:DeleteObject",
        "arn:signet:s3:::bucket/k",
        &c,
    );
    assert_eq!(
        d,
        Decision {
            allowed: false,
            reason: Reason::ExplicitDeny,
            decided_by: statement("guard", 1, Some("NoDelete")),
        }
    );
    // The deny does not cover other actions or resources.
    let d = decide(
        &[("admin", &allow), ("guard", &deny)],
        None,
        "s3:DeleteObject",
        "arn:signet:s3:::other/k",
        &c,
    );
    assert_eq!(d.reason, Reason::Allowed);
    assert_eq!(d.decided_by, statement("admin", 0, None));
}

#[test]
fn action_wildcards_and_case() {
    let c = Context::new();
    let cases = [
        ("s3:Get*", "s3:GetObject", true),
        ("s3:Get*", "s3:Get", true),
        ("s3:Get*", "s3:PutObject", false),
        ("s3:Get*", "ec2:GetObject", false),
        ("*", "anything:AtAll", true),
        ("s3:*Object", "s3:GetObject", true),
        ("s3:?etObject", "s3:GetObject", true),
        ("s3:?etObject", "s3:etObject", false),
        ("s3:?etObject", "s3:GGetObject", false),
        ("s3:getobject", "S3:GETOBJECT", true),
        ("S3:GET*", "s3:getObject", true),
    ];
    for (pattern, action, expected) in cases {
        let p = doc(&format!(
            r#"{{"Statement":{{"Effect":"Allow","Action":"{pattern}","Resource":"*"}}}}"#
        ));
        assert_eq!(
            allowed(&p, action, "r", &c),
            expected,
            "{pattern} vs {action}"
        );
    }
}

#[test]
fn resources_are_case_sensitive() {
    let p = doc(
        r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":["arn:signet:s3:::Bucket/*","arn:signet:s3:::b?/key"]}}"#,
    );
    let c = Context::new();
    assert!(allowed(&p, "a:b", "arn:signet:s3:::Bucket/x/y:z", &c));
    assert!(!allowed(&p, "a:b", "arn:signet:s3:::bucket/x", &c));
    assert!(allowed(&p, "a:b", "arn:signet:s3:::b1/key", &c));
    assert!(!allowed(&p, "a:b", "arn:signet:s3:::b12/key", &c));
}

#[test]
fn not_action_and_not_resource() {
    let p = doc(
        r#"{"Statement":{"Effect":"Allow","NotAction":["iam:*","sts:AssumeRole"],"NotResource":"arn:signet:s3:::secret/*"}}"#,
    );
    let c = Context::new();
    assert!(allowed(&p, "s3:GetObject", "arn:signet:s3:::bucket/x", &c));
    assert!(!allowed(
        &p,
        "iam:CreateUser",
        "arn:signet:s3:::bucket/x",
        &c
    ));
    assert!(!allowed(
        &p,
        "STS:assumerole",
        "arn:signet:s3:::bucket/x",
        &c
    ));
    assert!(allowed(
        &p,
        "sts:AssumeRoleWithWebIdentity",
        "arn:signet:s3:::bucket/x",
        &c
    ));
    assert!(!allowed(&p, "s3:GetObject", "arn:signet:s3:::secret/x", &c));

    // A Deny with NotAction denies everything but the listed actions.
    let allow_all = doc(r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#);
    let only_reads = doc(r#"{"Statement":{"Effect":"Deny","NotAction":"s3:Get*","Resource":"*"}}"#);
    let d = decide(
        &[("a", &allow_all), ("b", &only_reads)],
        None,
        "s3:PutObject",
        "r",
        &c,
    );
    assert_eq!(d.reason, Reason::ExplicitDeny);
    let d = decide(
        &[("a", &allow_all), ("b", &only_reads)],
        None,
        "s3:GetObject",
        "r",
        &c,
    );
    assert_eq!(d.reason, Reason::Allowed);
}

#[test]
fn string_conditions() {
    let c = ctx(&[
        ("signet:Tag", "Blue"),
        ("signet:multi", "a"),
        ("signet:multi", "b"),
    ]);
    let cases = [
        (r#"{"StringEquals":{"signet:tag":"Blue"}}"#, true),
        (r#"{"StringEquals":{"SIGNET:TAG":["red","Blue"]}}"#, true),
        (r#"{"StringEquals":{"signet:tag":"blue"}}"#, false),
        (r#"{"StringEqualsIgnoreCase":{"signet:tag":"bLUE"}}"#, true),
        (r#"{"StringNotEquals":{"signet:tag":"Blue"}}"#, false),
        (
            r#"{"StringNotEquals":{"signet:tag":["red","green"]}}"#,
            true,
        ),
        (
            r#"{"StringNotEqualsIgnoreCase":{"signet:tag":"BLUE"}}"#,
            false,
        ),
        (r#"{"StringLike":{"signet:tag":"B*"}}"#, true),
        (r#"{"StringLike":{"signet:tag":"b*"}}"#, false),
        (r#"{"StringLike":{"signet:tag":"Bl?e"}}"#, true),
        (r#"{"StringNotLike":{"signet:tag":"R*"}}"#, true),
        (r#"{"StringNotLike":{"signet:tag":"*u*"}}"#, false),
        // A StringEquals value is not a pattern.
        (r#"{"StringEquals":{"signet:tag":"B*"}}"#, false),
        // Multi-valued key without a set operator: any value may match.
        (r#"{"StringEquals":{"signet:multi":"b"}}"#, true),
        (r#"{"StringNotEquals":{"signet:multi":"b"}}"#, false),
        // Missing keys: positive false, negated true.
        (r#"{"StringEquals":{"signet:missing":"x"}}"#, false),
        (r#"{"StringLike":{"signet:missing":"*"}}"#, false),
        (r#"{"StringNotEquals":{"signet:missing":"x"}}"#, true),
        (r#"{"StringNotLike":{"signet:missing":"*"}}"#, true),
        // IfExists: absent holds, present is evaluated.
        (r#"{"StringEqualsIfExists":{"signet:missing":"x"}}"#, true),
        (r#"{"StringEqualsIfExists":{"signet:tag":"Red"}}"#, false),
        (r#"{"StringEqualsIfExists":{"signet:tag":"Blue"}}"#, true),
        // Keys in one operator AND; operators AND.
        (
            r#"{"StringEquals":{"signet:tag":"Blue","signet:multi":"a"}}"#,
            true,
        ),
        (
            r#"{"StringEquals":{"signet:tag":"Blue","signet:multi":"z"}}"#,
            false,
        ),
        (
            r#"{"StringEquals":{"signet:tag":"Blue"},"StringLike":{"signet:multi":"z*"}}"#,
            false,
        ),
    ];
    for (condition, expected) in cases {
        assert_eq!(
            allowed(&conditional(condition), "a:b", "r", &c),
            expected,
            "{condition}"
        );
    }
}

#[test]
fn numeric_date_bool_null_conditions() {
    let c = ctx(&[
        ("n", "10"),
        ("f", "2.5"),
        ("bad", "ten"),
        ("t", "2024-02-29T12:00:00Z"),
        ("epoch", "1709208000"),
        ("secure", "true"),
        ("empty", ""),
    ]);
    let cases = [
        (r#"{"NumericEquals":{"n":10}}"#, true),
        (r#"{"NumericEquals":{"n":"10.0"}}"#, true),
        (r#"{"NumericNotEquals":{"n":"10"}}"#, false),
        (r#"{"NumericNotEquals":{"n":["1","2"]}}"#, true),
        (r#"{"NumericLessThan":{"n":"10"}}"#, false),
        (r#"{"NumericLessThanEquals":{"n":"10"}}"#, true),
        (r#"{"NumericGreaterThan":{"n":"9.5"}}"#, true),
        (r#"{"NumericGreaterThanEquals":{"n":"11"}}"#, false),
        (r#"{"NumericLessThan":{"f":"3"}}"#, true),
        (r#"{"NumericEquals":{"bad":"10"}}"#, false),
        (r#"{"NumericLessThan":{"missing":"10"}}"#, false),
        (r#"{"NumericNotEquals":{"missing":"10"}}"#, true),
        (r#"{"NumericLessThanIfExists":{"missing":"10"}}"#, true),
        (r#"{"NumericLessThanIfExists":{"n":"5"}}"#, false),
        (r#"{"DateEquals":{"t":"1709208000"}}"#, true),
        (r#"{"DateEquals":{"epoch":"2024-02-29T12:00:00Z"}}"#, true),
        (r#"{"DateNotEquals":{"t":"2024-02-29T12:00:00Z"}}"#, false),
        (r#"{"DateLessThan":{"t":"2024-02-29T12:00:01Z"}}"#, true),
        (r#"{"DateLessThan":{"t":"2024-02-29T12:00:00Z"}}"#, false),
        (
            r#"{"DateLessThanEquals":{"t":"2024-02-29T12:00:00Z"}}"#,
            true,
        ),
        (r#"{"DateGreaterThan":{"t":"2024-01-01T00:00:00Z"}}"#, true),
        (r#"{"DateGreaterThanEquals":{"t":1709208001}}"#, false),
        (
            r#"{"DateGreaterThanIfExists":{"missing":"2024-01-01T00:00:00Z"}}"#,
            true,
        ),
        (r#"{"Bool":{"secure":true}}"#, true),
        (r#"{"Bool":{"secure":"false"}}"#, false),
        (r#"{"Bool":{"missing":"false"}}"#, false),
        (r#"{"BoolIfExists":{"missing":"true"}}"#, true),
        (r#"{"Null":{"missing":"true"}}"#, true),
        (r#"{"Null":{"missing":false}}"#, false),
        (r#"{"Null":{"secure":"true"}}"#, false),
        (r#"{"Null":{"secure":"false"}}"#, true),
        // An empty value is still a value.
        (r#"{"Null":{"empty":"false"}}"#, true),
    ];
    for (condition, expected) in cases {
        assert_eq!(
            allowed(&conditional(condition), "a:b", "r", &c),
            expected,
            "{condition}"
        );
    }
    // A key set to no values at all counts as absent.
    let mut c = Context::new();
    c.set("k", vec![]);
    assert!(allowed(
        &conditional(r#"{"Null":{"k":"true"}}"#),
        "a:b",
        "r",
        &c
    ));
}

#[test]
fn set_operators() {
    let c = ctx(&[("tags", "a"), ("tags", "b")]);
    let cases = [
        (r#"{"ForAnyValue:StringEquals":{"tags":["b","z"]}}"#, true),
        (r#"{"ForAnyValue:StringEquals":{"tags":["y","z"]}}"#, false),
        (
            r#"{"ForAllValues:StringEquals":{"tags":["a","b","c"]}}"#,
            true,
        ),
        (r#"{"ForAllValues:StringEquals":{"tags":["a","c"]}}"#, false),
        (r#"{"ForAllValues:StringLike":{"tags":"?"}}"#, true),
        // Absent key: ForAllValues holds, ForAnyValue does not.
        (r#"{"ForAllValues:StringEquals":{"missing":"a"}}"#, true),
        (r#"{"ForAnyValue:StringEquals":{"missing":"a"}}"#, false),
        (
            r#"{"ForAnyValue:StringEqualsIfExists":{"missing":"a"}}"#,
            true,
        ),
        // Negated: some value matches none / every value matches none.
        (r#"{"ForAnyValue:StringNotEquals":{"tags":"a"}}"#, true),
        (
            r#"{"ForAnyValue:StringNotEquals":{"tags":["a","b"]}}"#,
            false,
        ),
        (
            r#"{"ForAllValues:StringNotEquals":{"tags":["x","y"]}}"#,
            true,
        ),
        (r#"{"ForAllValues:StringNotEquals":{"tags":"a"}}"#, false),
        (r#"{"ForAnyValue:NumericGreaterThan":{"tags":"1"}}"#, false),
    ];
    for (condition, expected) in cases {
        assert_eq!(
            allowed(&conditional(condition), "a:b", "r", &c),
            expected,
            "{condition}"
        );
    }
    let mut empty = Context::new();
    empty.set("tags", vec![]);
    assert!(allowed(
        &conditional(r#"{"ForAllValues:StringEquals":{"tags":"a"}}"#),
        "a:b",
        "r",
        &empty
    ));
}

#[test]
fn policy_variables() {
    let p = doc(
        r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:signet:s3:::bucket/${signet:sub}/*"}}"#,
    );
    let alice = ctx(&[("Signet:Sub", "alice")]);
    assert!(allowed(
        &p,
        "s3:GetObject",
        "arn:signet:s3:::bucket/alice/notes.txt",
        &alice
    ));
    // A key given two values is no variable (IAM: multi-valued keys cannot be): neither
    // value is substituted, where the first used to be.
    let two = ctx(&[("Signet:Sub", "alice"), ("signet:sub", "mallory")]);
    for who in ["alice", "mallory"] {
        let resource = format!("arn:signet:s3:::bucket/{who}/notes.txt");
        assert!(!allowed(&p, "s3:GetObject", &resource, &two), "{who}");
    }
    assert!(!allowed(
        &p,
        "s3:GetObject",
        "arn:signet:s3:::bucket/bob/notes.txt",
        &alice
    ));
    // No such key: the pattern matches nothing, not even a literal "${signet:sub}".
    let none = Context::new();
    assert!(!allowed(
        &p,
        "s3:GetObject",
        "arn:signet:s3:::bucket/${signet:sub}/x",
        &none
    ));
    // A substituted value is literal: a sub of "*" is not a wildcard.
    let star = ctx(&[("signet:sub", "*")]);
    assert!(!allowed(
        &p,
        "s3:GetObject",
        "arn:signet:s3:::bucket/bob/x",
        &star
    ));
    assert!(allowed(
        &p,
        "s3:GetObject",
        "arn:signet:s3:::bucket/*/x",
        &star
    ));

    // Escapes are literal characters.
    let esc = doc(
        r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:x:${*}/${?}/${$}{a}"}}"#,
    );
    assert!(allowed(&esc, "a:b", "arn:x:*/?/${a}", &none));
    assert!(!allowed(&esc, "a:b", "arn:x:z/?/${a}", &none));
    assert!(!allowed(&esc, "a:b", "arn:x:*/z/${a}", &none));

    // In condition values.
    let cond = conditional(r#"{"StringEquals":{"signet:owner":"${signet:sub}"}}"#);
    let c = ctx(&[("signet:owner", "alice"), ("signet:sub", "alice")]);
    assert!(allowed(&cond, "a:b", "r", &c));
    let c = ctx(&[("signet:owner", "bob"), ("signet:sub", "alice")]);
    assert!(!allowed(&cond, "a:b", "r", &c));
    let c = ctx(&[("signet:owner", "${signet:sub}")]);
    assert!(!allowed(&cond, "a:b", "r", &c));
    let like = conditional(r#"{"StringLike":{"path":"home/${signet:sub}/*"}}"#);
    let c = ctx(&[("path", "home/alice/x"), ("signet:sub", "alice")]);
    assert!(allowed(&like, "a:b", "r", &c));
    let c = ctx(&[("path", "home/alice/x"), ("signet:sub", "?lice")]);
    assert!(!allowed(&like, "a:b", "r", &c));
    let literal = conditional(r#"{"StringEquals":{"k":"a${*}b${$}"}}"#);
    assert!(allowed(&literal, "a:b", "r", &ctx(&[("k", "a*b$")])));
}

#[test]
fn session_policy_only_narrows() {
    let role =
        doc(r#"{"Statement":{"Sid":"All","Effect":"Allow","Action":"s3:*","Resource":"*"}}"#);
    let session = doc(r#"{"Statement":[
        {"Effect":"Allow","Action":["s3:GetObject","iam:*"],"Resource":"*"},
        {"Sid":"NoSecret","Effect":"Deny","Action":"*","Resource":"arn:signet:s3:::secret"}
    ]}"#);
    let c = Context::new();
    let run = |action, resource| decide(&[("role", &role)], Some(&session), action, resource, &c);
    assert_eq!(
        run("s3:GetObject", "arn:signet:s3:::b"),
        Decision {
            allowed: true,
            reason: Reason::Allowed,
            decided_by: statement("role", 0, Some("All")),
        }
    );
    // The role allows it, the session policy does not.
    assert_eq!(
        run("s3:PutObject", "arn:signet:s3:::b"),
        Decision {
            allowed: false,
            reason: Reason::ImplicitDeny,
            decided_by: None,
        }
    );
    // The session Deny wins.
    assert_eq!(
        run("s3:GetObject", "arn:signet:s3:::secret"),
        Decision {
            allowed: false,
            reason: Reason::ExplicitDeny,
            decided_by: statement("session", 1, Some("NoSecret")),
        }
    );
    // The session policy allows iam:*, the role does not: no widening.
    assert_eq!(
        run("iam:CreateUser", "arn:signet:s3:::b").reason,
        Reason::ImplicitDeny
    );
    // An empty session policy denies everything.
    let empty = doc(r#"{"Statement":[]}"#);
    assert!(!decide(&[("role", &role)], Some(&empty), "s3:GetObject", "x", &c).allowed);
}

#[test]
fn trust_policy_principals() {
    let web = trust(
        r#"{"Version":"2012-10-17","Statement":[{
            "Sid":"Web","Effect":"Allow","Action":"sts:AssumeRoleWithWebIdentity",
            "Principal":{"Federated":"accounts.google.com"},
            "Condition":{"StringEquals":{"accounts.google.com:aud":"client-1"}}
        }]}"#,
    );
    let several = trust(
        r#"{"Statement":{"Effect":"Allow","Action":"sts:*",
            "Principal":{"Federated":["idp-a","signet.example.com/pools/*"],"Service":"ec2.example"}}}"#,
    );
    let anyone =
        trust(r#"{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":"*"}}"#);
    let not_p = trust(
        r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":"*"},
            {"Effect":"Deny","Action":"sts:AssumeRole","NotPrincipal":{"AWS":"trusted-*"}}]}"#,
    );
    let aud = ctx(&[("accounts.google.com:aud", "client-1")]);
    let check = |p: &PolicyDocument, action: &str, principal: Option<(&str, &str)>, c: &Context| {
        evaluate(
            &[("trust", p)],
            None,
            &Request {
                action,
                resource: "arn:signet:iam::role/r",
                principal: principal.map(|(kind, value)| Principal { kind, value }),
                context: c,
            },
        )
        .allowed
    };
    let e = Context::new();
    let wi = "sts:AssumeRoleWithWebIdentity";
    assert!(check(
        &web,
        wi,
        Some(("Federated", "accounts.google.com")),
        &aud
    ));
    assert!(!check(
        &web,
        wi,
        Some(("Federated", "accounts.google.com")),
        &e
    ));
    assert!(!check(&web, wi, Some(("Federated", "evil.example")), &aud));
    assert!(!check(
        &web,
        wi,
        Some(("Service", "accounts.google.com")),
        &aud
    ));
    assert!(!check(&web, wi, None, &aud));
    assert!(check(&several, wi, Some(("Federated", "idp-a")), &e));
    assert!(check(
        &several,
        wi,
        Some(("Federated", "signet.example.com/pools/eu-1_X")),
        &e
    ));
    assert!(!check(&several, wi, Some(("Federated", "idp-b")), &e));
    assert!(check(&several, wi, Some(("Service", "ec2.example")), &e));
    assert!(check(
        &anyone,
        "sts:AssumeRole",
        Some(("AWS", "whoever")),
        &e
    ));
    assert!(!check(&anyone, "sts:AssumeRole", None, &e));
    assert!(check(
        &not_p,
        "sts:AssumeRole",
        Some(("AWS", "trusted-1")),
        &e
    ));
    assert!(!check(
        &not_p,
        "sts:AssumeRole",
        Some(("AWS", "stranger")),
        &e
    ));
    assert!(!check(
        &not_p,
        "sts:AssumeRole",
        Some(("Federated", "trusted-1")),
        &e
    ));
}

#[test]
fn parse_errors() {
    let big = format!(
        r#"{{"Statement":{{"Effect":"Allow","Action":"*","Resource":"{}"}}}}"#,
        "x".repeat(MAX_POLICY_BYTES)
    );
    assert_eq!(
        PolicyDocument::parse(&big).err(),
        Some(PolicyError::TooLarge {
            size: big.len(),
            max: MAX_POLICY_BYTES
        })
    );
    assert!(matches!(
        PolicyDocument::parse("{"),
        Err(PolicyError::Json(_))
    ));
    assert!(matches!(
        PolicyDocument::parse("[]"),
        Err(PolicyError::Invalid(_))
    ));

    let permission_cases = [
        (
            r#"{"Statement":[],"Extra":1}"#,
            "unknown top-level field \"Extra\"",
        ),
        (
            r#"{"Version":"2020-01-01","Statement":[]}"#,
            "unsupported Version",
        ),
        (r#"{"Version":"2012-10-17"}"#, "missing field \"Statement\""),
        (
            r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"S1","Effect":"Allow","Action":"*","Resource":"*","Actions":"x"}]}"#,
            "Statement[1] (Sid \"S1\"): unknown field \"Actions\"",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","NotAction":"x","Resource":"*"}}"#,
            "Statement[0]: has both \"Action\" and \"NotAction\"",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Resource":"*"}}"#,
            "Statement[0]: needs one of \"Action\" or \"NotAction\"",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*"}}"#,
            "Statement[0]: needs one of \"Resource\" or \"NotResource\"",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"x"}}"#,
            "has both \"Resource\" and \"NotResource\"",
        ),
        (
            r#"{"Statement":{"Effect":"allow","Action":"*","Resource":"*"}}"#,
            "Statement[0]: Effect must be \"Allow\" or \"Deny\"",
        ),
        (
            r#"{"Statement":{"Action":"*","Resource":"*"}}"#,
            "Statement[0]: missing field \"Effect\"",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}"#,
            "Action must not be an empty array",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":["s3:Get",3],"Resource":"*"}}"#,
            "Action must contain only strings",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"k":"v"}}}}"#,
            "Condition \"StringEqualz\": unknown condition operator",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"k":"ten"}}}}"#,
            "Condition \"NumericLessThan\" key \"k\": \"ten\" is not a number",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericEquals":{"k":"inf"}}}}"#,
            "\"inf\" is not a number",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"k":"2024-02-30T00:00:00Z"}}}}"#,
            "is not a date",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"k":"yes"}}}}"#,
            "\"yes\" is not \"true\" or \"false\"",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NullIfExists":{"k":"true"}}}}"#,
            "Null does not take the IfExists suffix",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":{"a":1}}}}}"#,
            "Condition \"StringEquals\" key \"k\": value must be",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":"${oops"}}}}"#,
            "unterminated policy variable",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:${}"}}"#,
            "Resource: empty policy variable",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Principal":"*"}}"#,
            "Statement[0]: Principal is not allowed in a permission policy",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","NotPrincipal":{"AWS":"x"}}}"#,
            "NotPrincipal is not allowed in a permission policy",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Effect":"Deny","Action":"*","Resource":"*"}}"#,
            "duplicate JSON key \"Effect\"",
        ),
    ];
    for (json, expected) in permission_cases {
        match PolicyDocument::parse(json) {
            Err(e @ PolicyError::Invalid(_)) => {
                let msg = e.to_string();
                assert!(msg.contains(expected), "{msg:?} lacks {expected:?}");
            }
            other => panic!("{json}: expected Invalid containing {expected:?}, got {other:?}"),
        }
    }

    let trust_cases = [
        (
            r#"{"Statement":{"Sid":"T","Effect":"Allow","Action":"sts:AssumeRole"}}"#,
            "Statement[0] (Sid \"T\"): a trust policy statement needs one of \"Principal\" or \"NotPrincipal\"",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Users":"x"}}}"#,
            "unknown principal type \"Users\"",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":"someone"}}"#,
            "Principal must be \"*\" or an object",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":"*","NotPrincipal":"*"}}"#,
            "has both \"Principal\" and \"NotPrincipal\"",
        ),
    ];
    for (json, expected) in trust_cases {
        match PolicyDocument::parse_trust(json) {
            Err(e @ PolicyError::Invalid(_)) => {
                let msg = e.to_string();
                assert!(msg.contains(expected), "{msg:?} lacks {expected:?}");
            }
            other => panic!("{json}: expected Invalid containing {expected:?}, got {other:?}"),
        }
    }
}

#[test]
fn parse_accepts_the_documented_shapes() {
    let p = doc(r#"{"Version":"2008-10-17","Id":"P1","Statement":[
            {"Sid":"A","Effect":"Deny","Action":"a:b","Resource":["r1","r2"],
             "Condition":{"ForAllValues:StringLikeIfExists":{"k":["v*",true,3]},"Null":{"x":true}}}
        ]}"#);
    assert_eq!(p.version(), Some("2008-10-17"));
    assert_eq!(p.id(), Some("P1"));
    assert_eq!(p.statements().len(), 1);
    assert_eq!(p.statements()[0].sid(), Some("A"));
    assert_eq!(p.statements()[0].effect(), Effect::Deny);
    // Resource is optional in a trust policy.
    let t = trust(
        r#"{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":["a","b"]}}}"#,
    );
    assert_eq!(t.statements()[0].effect(), Effect::Allow);
    assert!(t.version().is_none());
}

#[test]
fn context_keys_are_case_insensitive_and_multi_valued() {
    let mut c = Context::new();
    c.insert("Signet:Groups", "admins");
    c.insert("signet:groups", "devs");
    assert_eq!(
        c.get("SIGNET:GROUPS"),
        Some(&["admins".to_owned(), "devs".to_owned()][..])
    );
    c.set("signet:GROUPS", vec!["ops".into()]);
    assert_eq!(c.get("signet:groups"), Some(&["ops".to_owned()][..]));
    assert_eq!(c.get("other"), None);
}

#[test]
fn wildcard_matching() {
    let cases = [
        ("", "", true),
        ("", "a", false),
        ("*", "", true),
        ("*", "a/b:c", true),
        ("?", "", false),
        ("?", "ü", true),
        ("a*b", "ab", true),
        ("a*b", "a/x:yb", true),
        ("a*b", "a/x:yc", false),
        ("a?c", "abc", true),
        ("a?c", "ac", false),
        ("*a*b*", "xxaxxbxx", true),
        ("*a*b*", "xxbxxaxx", false),
        ("a**b", "ab", true),
        ("*.txt", "notes.txt", true),
        ("*.txt", "notes.txt.bak", false),
        ("ab*", "a", false),
    ];
    for (pattern, value, expected) in cases {
        assert_eq!(
            wildcard_match(pattern, value, false),
            expected,
            "{pattern:?} {value:?}"
        );
    }
    assert!(wildcard_match("S3:Get*", "s3:getobject", true));
    assert!(!wildcard_match("S3:Get*", "s3:getobject", false));
}

#[test]
fn pathological_wildcard_is_fast() {
    let value = "a".repeat(10_000);
    let pattern = "*a*a*a*a*a*a*a*a*b";
    let start = Instant::now();
    assert!(!wildcard_match(pattern, &value, false));
    assert!(wildcard_match(&pattern.replace('b', "a"), &value, false));
    let mut with_b = value.clone();
    with_b.push('b');
    assert!(wildcard_match(pattern, &with_b, false));
    // Also through a Resource pattern, with the largest resource a request may name.
    let p = doc(&format!(
        r#"{{"Statement":{{"Effect":"Allow","Action":"*","Resource":"{pattern}"}}}}"#
    ));
    let resource = &value[..MAX_RESOURCE_BYTES];
    assert!(!allowed(&p, "a:b", resource, &Context::new()));
    assert!(allowed(
        &p,
        "a:b",
        &format!("{resource}b")[1..],
        &Context::new()
    ));
    let elapsed = start.elapsed();
    assert!(elapsed.as_millis() < 500, "took {elapsed:?}");
}
