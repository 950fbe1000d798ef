//! The node's formats: job specs (TOML), data files (integer columns and CSV tables, as each
//! program reads them), and the ledger service's request/response wire.
//!
//! An accepted spec survives `to_toml` → `parse` unchanged and hashes its program; an accepted
//! column or table survives being written back out and read again; an accepted wire message
//! re-encodes to itself (the ledger's encoding is canonical).

use tessera_ledger::{Decode, Receipt, StateKey, Transaction};
use tessera_node::job::{JobSpec, Program, check_data_file, read_column};
use tessera_node::ledgerwire::{ErrorCode, Request, Response};
use tessera_node::programs::{psi_aggregate, read_table, secure_lr};

use super::ledger::{did_text_round_trip, fixture};
use crate::target::{SMALL_FIXED, Target, Verdict};

const PROGRAMS: [&str; 6] = [
    "name = \"joint-stats\"\nhistogram_edges = [0, 50, 100]\nsquares = \"owner\"",
    "name = \"psi-aggregate\"\ncolumn = \"spend\"\ncombine = \"product\"",
    "name = \"secure-lr\"\nepochs = 3\nlearning_rate = 1.0",
    "name = \"secure-lr\"\nsplit = \"vertical\"\nepochs = 2\nlabel = \"y\"",
    "name = \"federated-lr\"\nkey_bits = 1024",
    "name = \"federated-secureboost\"\nkey_bits = 1024",
];

fn spec_text(program: &str, federated: bool) -> String {
    let names = if federated { &["alice", "bob"][..] } else { &["alice", "bob", "carol"][..] };
    let mut parties = String::new();
    for (i, n) in names.iter().enumerate() {
        parties.push_str(&format!(
            "[[party]]\ndid = \"did:tessera:{n}\"\ndataset = \"{n}-data\"\ngrant = \"g1\"\n"
        ));
        if federated {
            parties.push_str(if i == 0 { "role = \"guest\"\n" } else { "role = \"host\"\n" });
        }
    }
    let outs: Vec<String> = names.iter().map(|n| format!("\"did:tessera:{n}\"")).collect();
    format!("job_id = \"job-1\"\noutputs = [{}]\n[program]\n{program}\n{parties}", outs.join(", "))
}

fn spec_seeds() -> Vec<Vec<u8>> {
    PROGRAMS
        .iter()
        .map(|p| spec_text(p, p.contains("federated")).into_bytes())
        .chain(std::iter::once(
            // A did:key participant and the outputs given to one party only.
            "job_id = \"j\"\noutputs = [\"did:tessera:a\"]\n[program]\nname = \"joint-stats\"\n\
             [[party]]\ndid = \"did:tessera:a\"\ndataset = \"d\"\ngrant = \"g\"\n\
             [[party]]\ndid = \"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK\"\n\
             dataset = \"d2\"\ngrant = \"g\"\n"
                .as_bytes()
                .to_vec(),
        ))
        .collect()
}

fn check_spec(data: &[u8]) -> Verdict {
    let Ok(text) = std::str::from_utf8(data) else {
        return Verdict::Rejected("not UTF-8".into());
    };
    let r = JobSpec::parse(text);
    if let Ok(spec) = &r {
        let toml = spec.to_toml().expect("an accepted spec writes TOML");
        let back = JobSpec::parse(&toml).expect("its TOML parses");
        assert_eq!(&back, spec, "job spec TOML round trip");
        spec.program.hash().expect("program hash");
        spec.dids().expect("validated DIDs").iter().for_each(did_text_round_trip);
        spec.recipients().expect("validated recipients");
    }
    Verdict::of(&r)
}

fn program_params() -> (psi_aggregate::PsiAggregateParams, secure_lr::SecureLrParams) {
    let psi = match JobSpec::parse(&spec_text(PROGRAMS[1], false)).map(|s| s.program) {
        Ok(Program::PsiAggregate(p)) => p,
        other => panic!("psi-aggregate spec: {other:?}"),
    };
    let lr = match JobSpec::parse(&spec_text(PROGRAMS[3], false)).map(|s| s.program) {
        Ok(Program::SecureLr(p)) => p,
        other => panic!("secure-lr spec: {other:?}"),
    };
    (psi, lr)
}

fn data_seeds() -> Vec<Vec<u8>> {
    let tables = [
        "id,spend,x1\na,3,1.5\nb,4,-2\nc,0,1e3\n".to_string(),
        "id,y,x1,x2\n1,1,0.5,0.25\n2,0,-1,3\n".to_string(),
        "value\n1\n2\n18446744073709551615\n".to_string(),
        "3\n1\n4\n1\n5\n".to_string(),
    ];
    tables.iter().flat_map(|t| (0u8..5).map(move |k| [&[k][..], t.as_bytes()].concat())).collect()
}

fn check_data(data: &[u8]) -> Verdict {
    let Some((&which, rest)) = data.split_first() else {
        return Verdict::Rejected("empty".into());
    };
    match which % 5 {
        0 => {
            let r = read_column(rest);
            if let Ok(values) = &r {
                let text: String = values.iter().map(|v| format!("{v}\n")).collect();
                assert_eq!(&read_column(text.as_bytes()).expect("re-read"), values, "column");
            }
            Verdict::of(&r)
        }
        1 => {
            let r = read_table(rest, Some("y"));
            if let Ok(t) = &r {
                crate::targets::federated::dataset_invariants(t);
            }
            Verdict::of(&r)
        }
        2 => {
            let (psi, _) = program_params();
            let r = psi_aggregate::read_input(rest, &psi);
            if let Ok((ids, values)) = &r {
                assert_eq!(ids.len(), values.len(), "one value per id");
            }
            Verdict::of(&r)
        }
        3 => {
            let (_, lr) = program_params();
            Verdict::of(&secure_lr::read_input(rest, &lr))
        }
        _ => Verdict::of(&check_data_file(rest)),
    }
}

fn wire_seeds() -> Vec<Vec<u8>> {
    let f = fixture();
    let tx = Transaction::from_bytes(&f.txs[0]).expect("fixture tx");
    let mut out: Vec<Vec<u8>> = [
        Request::Hello { did: tx.signer.did.clone() },
        Request::Info,
        Request::Tip,
        Request::State(StateKey::Grant { dataset: "ds".into(), grant: "g".into() }),
        Request::State(StateKey::Governance),
        Request::TxReceipt([9; 32]),
        Request::Submit(Box::new(tx)),
    ]
    .iter()
    .map(|r| [&[0u8][..], &r.to_wire()].concat())
    .collect();
    let header = Decode::from_bytes(f.headers.last().expect("a header")).expect("header");
    let certificate = f.certificates.last().map(|c| Decode::from_bytes(c).expect("certificate"));
    let responses = [
        Response::error(ErrorCode::Rejected, "nonce reused"),
        Response::Hello { member: true },
        Response::Info { genesis_json: f.genesis_json.clone() },
        Response::Tip { header, certificate },
        Response::Receipt(Receipt::from_bytes(&f.receipts[0]).expect("receipt")),
    ];
    out.extend(responses.iter().map(|r| [&[1u8][..], &r.to_wire()].concat()));
    out
}

fn check_wire(data: &[u8]) -> Verdict {
    let Some((&which, rest)) = data.split_first() else {
        return Verdict::Rejected("empty".into());
    };
    if which % 2 == 0 {
        let r = Request::from_wire(rest);
        if let Ok(req) = &r {
            assert_eq!(req.to_wire(), rest, "ledger request: non-canonical bytes accepted");
        }
        Verdict::of(&r)
    } else {
        let r = Response::from_wire(rest);
        if let Ok(resp) = &r {
            assert_eq!(resp.to_wire(), rest, "ledger response: non-canonical bytes accepted");
        }
        Verdict::of(&r)
    }
}

const TOML_DICT: &[&[u8]] = &[
    b"[[party]]\n",
    b"[program]\n",
    b"name = ",
    b"\"",
    b"=",
    b"[",
    b"]",
    b",",
    b"\n",
    b"did:tessera:",
    b"did:key:z",
    b"role = \"guest\"",
    b"role = \"host\"",
    b"outputs = ",
    b"1e308",
    b"-1",
    b"inf",
    b"nan",
    b"{",
    b"}",
    b"'''",
    b"\\u0000",
];
const CSV_DICT: &[&[u8]] = &[
    b",",
    b"\n",
    b"\r\n",
    b"id",
    b"y",
    b"spend",
    b"NaN",
    b"inf",
    b"-0",
    b"1e309",
    b"\xef\xbb\xbf",
];

/// The node targets.
pub fn targets() -> Vec<Target> {
    vec![
        Target {
            name: "node_jobspec",
            about: "JobSpec::parse (TOML, program parameters, DIDs, recipients)",
            seeds: spec_seeds,
            check: check_spec,
            max_len: 4096,
            dict: TOML_DICT,
            alloc_fixed: SMALL_FIXED,
            ci_execs: 3000,
        },
        Target {
            name: "node_data",
            about: "read_column, read_table, psi_aggregate/secure_lr::read_input, check_data_file",
            seeds: data_seeds,
            check: check_data,
            max_len: 4096,
            dict: CSV_DICT,
            alloc_fixed: SMALL_FIXED,
            ci_execs: 4000,
        },
        Target {
            name: "node_ledgerwire",
            about: "ledgerwire::Request::from_wire, Response::from_wire",
            seeds: wire_seeds,
            check: check_wire,
            max_len: 16 << 10,
            dict: &[],
            alloc_fixed: SMALL_FIXED,
            ci_execs: 3000,
        },
    ]
}
