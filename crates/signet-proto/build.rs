//! Generates the tonic/prost code for every file under `proto/`. protoc comes from
//! `protoc-bin-vendored` and `PROTOC` is set explicitly, so a system protoc is never used
//! and a fresh machine needs no package install.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // Build scripts are single-threaded, so setting the variable here is sound.
    std::env::set_var("PROTOC", protoc);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files = [
        "signet/store/v1/store.proto",
        "signet/v1/types.proto",
        "signet/v1/admin.proto",
        "signet/v1/auth.proto",
        "signet/v1/identity.proto",
        "signet/v1/revocations.proto",
        // Envoy's external authorization API (the edge authorizer's ext_authz face).
        "envoy/service/auth/v3/external_auth.proto",
    ];
    let paths: Vec<_> = files.iter().map(|f| root.join(f)).collect();
    // The whole tree: a file that is only imported (Envoy's attribute_context.proto) must
    // regenerate the code too when it changes. Cargo scans a directory recursively.
    println!("cargo:rerun-if-changed={}", root.display());
    // The descriptor set feeds gRPC reflection (grpcurl, evans, Postman discover the APIs).
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    // The public messages also speak JSON as AWS's JSON 1.1 protocol does (the gateway's
    // `POST /` front): Cognito's member names are these fields in PascalCase, except the
    // acronyms renamed below; every member may be left out, and a member the message does
    // not have is refused rather than dropped (what a caller asked for is never silently
    // ignored; the front strips the few members it documents as accepted with no effect).
    let mut b = tonic_prost_build::configure()
        .file_descriptor_set_path(out.join("signet_descriptor.bin"))
        .message_attribute(
            ".signet.v1",
            "#[derive(serde::Serialize, serde::Deserialize)] \
             #[serde(rename_all = \"PascalCase\", default, deny_unknown_fields)]",
        );
    for (field, name) in COGNITO_NAMES {
        b = b.field_attribute(field, format!("#[serde(rename = \"{name}\")]"));
    }
    b.compile_protos(&paths, &[root])?;
    Ok(())
}

/// Fields whose Cognito member name is not their name in PascalCase (by field name, in
/// every message that has it).
const COGNITO_NAMES: [(&str, &str); 8] = [
    ("allowed_oauth_flows", "AllowedOAuthFlows"),
    ("allowed_oauth_scopes", "AllowedOAuthScopes"),
    ("callback_urls", "CallbackURLs"),
    ("logout_urls", "LogoutURLs"),
    ("default_redirect_uri", "DefaultRedirectURI"),
    ("user_mfa_setting_list", "UserMFASettingList"),
    ("csv_header", "CSVHeader"),
    ("sms_mfa_settings", "SMSMfaSettings"),
];
