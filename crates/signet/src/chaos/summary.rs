//! The report of `signet chaos run` for people: one line per workload and check.

use serde_json::Value;

/// Print the report `r` (as `--json` gives it) as lines of text.
pub fn print_summary(r: &Value) {
    let ops = &r["operations"];
    println!(
        "seed {}: {} stores over {}; {} operations ({} ok, {} failed, {} unknown), {} faults, \
         worst outage {:.0} ms",
        r["seed"],
        r["stores"],
        r["transport"].as_str().unwrap_or("?"),
        ops["total"],
        ops["ok"],
        ops["failed"],
        ops["unknown"],
        r["faults"].as_array().map_or(0, Vec::len),
        r["worst_outage_ms"].as_f64().unwrap_or(0.0)
    );
    for (g, c) in r["workloads"]["sign_ups"]["checks"]
        .as_object()
        .into_iter()
        .flatten()
    {
        println!(
            "sign-ups, {g}: lost {}, duplicated {}, refused but present {}, unexpected {}",
            c["lost"], c["duplicated"], c["refused_but_present"], c["unexpected"]
        );
    }
    for (g, c) in r["workloads"]["identities"]["checks"]
        .as_object()
        .into_iter()
        .flatten()
    {
        println!(
            "identities, {g}: conflicting {}, lost {}, duplicated {}",
            c["conflicting"], c["lost"], c["duplicated"]
        );
    }
    let regs = &r["workloads"]["registers"];
    if regs["operations"]["total"].as_u64().unwrap_or(0) > 0 {
        let ok = |k: &str| &regs[k]["ok"];
        println!(
            "registers: {} ok reads, {} ok writes, {} ok compare-and-sets ({} swapped); \
             not linearizable {}, undecided {}",
            ok("reads"),
            ok("writes"),
            ok("cas"),
            regs["cas_swapped"],
            regs["not_linearizable"],
            regs["gave_up"]
        );
    }
    let toks = &r["workloads"]["tokens"];
    if toks["operations"]["total"].as_u64().unwrap_or(0) > 0 {
        println!(
            "tokens: {} issued, {} verified against every gateway's JWKS, {} expired, \
             {} kids; not verifying {}",
            toks["operations"]["ok"],
            toks["verified"],
            toks["expired"],
            toks["kids_seen"],
            toks["anomalies"]
        );
        for a in toks["anomalies_listed"].as_array().into_iter().flatten() {
            println!(
                "  token {} (kid {}) issued by {} at {} ms: {} JWKS: {}",
                a["jti"], a["kid"], a["issued_by"], a["invoked_ms"], a["jwks_of"], a["error"]
            );
        }
    }
    let keys = &r["workloads"]["keys"];
    if keys.is_object() {
        let stale = keys["stale_retirements"].as_array().map_or(0, Vec::len);
        println!(
            "keys: {} retired ({} of gateways the faults stopped), stale retirements {}{}",
            keys["retired"],
            keys["retired"].as_u64().unwrap_or(0) as usize
                - stale
                - keys["unattributed"].as_u64().unwrap_or(0) as usize,
            stale,
            if keys["excused"] == true {
                " (excused: no write for longer than a lease allows)"
            } else {
                ""
            }
        );
        for s in keys["stale_retirements"].as_array().into_iter().flatten() {
            println!(
                "  key {} of {} (alive, first token at {} ms) retired at {} ms",
                s["kid"], s["gateway"], s["first_token_ms"], s["retired_ms"]
            );
        }
    }
    print_signins(&r["workloads"]);
    if r["state_digests"].is_object() {
        let digests: Vec<String> = r["state_digests"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, d)| {
                let digest = d["digest"].as_str().unwrap_or("unreadable");
                format!(
                    "{name} {} {}",
                    d["applied"],
                    &digest[..digest.len().min(12)]
                )
            })
            .collect();
        println!(
            "state after stopping (applied index, digest): {}; diverged: {}",
            digests.join(", "),
            r["diverged"]
        );
    }
    let probe = &r["transport_probe"];
    if probe.is_object() {
        println!(
            "stores over {}: {} of {} answered the operator's certificate; {} refused \
             plaintext, {} refused TLS without a client certificate; let in: {}",
            r["transport"].as_str().unwrap_or("?"),
            probe["answered_operator"],
            probe["stores"],
            probe["refused_plaintext"],
            probe["refused_without_certificate"],
            probe["let_in"]
        );
    }
    super::attach::print_summary(r);
    let checks: Vec<&str> = r["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    println!("checks run: {}", checks.join(", "));
    for (check, why) in r["checks_not_run"].as_object().into_iter().flatten() {
        println!("not run: {check}: {}", why.as_str().unwrap_or_default());
    }
    println!(
        "stores converged: {} (applied {}); anomalies: {}; in {}",
        r["converged"], r["applied"], r["anomalies"], r["dir"]
    );
}

/// One line per sign-in workload that ran.
fn print_signins(w: &Value) {
    let ops = |w: &Value| {
        let o = &w["operations"];
        format!(
            "{} calls ({} ok, {} failed, {} unknown)",
            o["total"], o["ok"], o["failed"], o["unknown"]
        )
    };
    let refresh = &w["refresh"];
    if refresh.is_object() {
        let c = &refresh["check"];
        println!(
            "refresh: {}, {} families, {} rotated, {} decided reuses, {} families revoked, \
             {} last tokens presented again ({} refused as revoked); double winners {}, \
             accepted after revocation {}, revoked without reuse {}",
            ops(refresh),
            c["families"],
            c["rotated"],
            c["decided_reuses"],
            c["revoked_families"],
            refresh["probes"]["total"],
            refresh["probes_refused_as_revoked"],
            c["double_winners"].as_array().map_or(0, Vec::len),
            c["accepted_after_revocation"]
                .as_array()
                .map_or(0, Vec::len),
            c["revoked_without_reuse"].as_array().map_or(0, Vec::len),
        );
    }
    let codes = &w["codes"];
    if codes.is_object() {
        let c = &codes["check"];
        println!(
            "codes: {}, {} codes raced ({} won, {} undecided, {} all refused), {} passwords \
             tried after healing; double winners {}, wrong passwords {}, unjudged {}",
            ops(codes),
            c["codes"],
            c["won"],
            c["undecided"],
            c["refused"],
            codes["passwords_tried"],
            c["double_winners"].as_object().map_or(0, |m| m.len()),
            c["wrong_password"].as_array().map_or(0, Vec::len),
            c["unjudged"].as_array().map_or(0, Vec::len),
        );
    }
    let lockout = &w["lockout"];
    if lockout.is_object() {
        let (c, p) = (&lockout["check"], &lockout["policy"]);
        println!(
            "lockout (threshold {}, first lockout {} ms): {}, {} users, {} checked wrong, {} \
             locked out, {} signed in, right password refused while locked {}; over the \
             window {}, signed in while locked {}, misjudged {}",
            p["threshold"],
            p["base_ms"],
            ops(lockout),
            c["users"],
            c["incorrect"],
            c["locked"],
            c["signed_in"],
            c["right_refused_while_locked"],
            c["too_many_checked"].as_array().map_or(0, Vec::len),
            c["signed_in_while_locked"].as_array().map_or(0, Vec::len),
            c["misjudged"].as_array().map_or(0, Vec::len),
        );
    }
}
