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
    ];
    let paths: Vec<_> = files.iter().map(|f| root.join(f)).collect();
    for p in &paths {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    // The descriptor set feeds gRPC reflection (grpcurl, evans, Postman discover the APIs).
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    tonic_prost_build::configure()
        .file_descriptor_set_path(out.join("signet_descriptor.bin"))
        .compile_protos(&paths, &[root])?;
    Ok(())
}
