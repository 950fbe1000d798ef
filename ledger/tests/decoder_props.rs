//! Property tests: decoders of untrusted bytes return errors, never panic, and accept only
//! canonical encodings.

use proptest::prelude::*;
use tessera_ledger::*;

fn sample_tx() -> Vec<u8> {
    let k = KeyPair::from_secret(SignatureSuite::Ed25519, &[3; 32]).unwrap();
    let c = Commitment {
        job_id: "job".into(),
        participants: vec![Did::tessera("a").unwrap(), Did::key(k.public_key())],
        program_hash: [1; 32],
        inputs: vec![InputCommitment {
            dataset: "d".into(),
            grant: "g".into(),
            commitment: [2; 32],
        }],
        result_hash: [4; 32],
        tee_evidence_hash: None,
        signatures: vec![Approval {
            signer: KeyRef::did_key(k.public_key()),
            signature: Signature([5; 64]),
        }],
    };
    Transaction::sign(
        &[0; 32],
        KeyRef::new(Did::tessera("a").unwrap(), "k"),
        9,
        TxBody::Commit(c),
        &k,
    )
    .to_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(tx) = Transaction::decode_untrusted(&bytes) {
            prop_assert_eq!(tx.to_bytes(), bytes.clone());
        }
        let _ = Receipt::from_bytes(&bytes);
        let _ = tessera_ledger::smt::SmtProof::from_bytes(&bytes);
        let _ = BlockHeader::from_bytes(&bytes);
        let _ = CommitCertificate::from_bytes(&bytes);
        let _ = Genesis::from_bytes(&bytes);
    }

    #[test]
    fn mutated_transactions_never_panic_and_stay_canonical(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut b = sample_tx();
        for (i, v) in &edits {
            let j = i.index(b.len());
            b[j] = *v;
        }
        if truncate {
            b.truncate(cut.index(b.len()));
        }
        if let Ok(tx) = Transaction::decode_untrusted(&b) {
            prop_assert_eq!(tx.to_bytes(), b);
        }
    }
}

#[test]
fn sample_round_trips() {
    let b = sample_tx();
    assert_eq!(Transaction::decode_untrusted(&b).unwrap().to_bytes(), b);
    // Oversized input is refused before decoding.
    assert!(Transaction::decode_untrusted(&vec![0u8; 300 * 1024]).is_err());
}

fn sample_document() -> Vec<u8> {
    let k = KeyPair::from_secret(SignatureSuite::Ed25519, &[6; 32]).unwrap();
    let mut d = DidDocument::new("node-a", "key-1", k.public_key());
    d.services.push(Service {
        id: "node".into(),
        kind: "TesseraNode".into(),
        endpoint: "quic://node-a.example.org:4433".into(),
    });
    d.to_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// A DID document with a service entry, mutated anywhere: never a panic, and anything that
    /// decodes re-encodes to the same bytes and carries only endpoints that parse.
    #[test]
    fn mutated_did_documents_decode_canonically_or_fail(
        pos in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = sample_document();
        let i = pos.index(bytes.len());
        bytes[i] = byte;
        bytes.truncate(bytes.len() - cut.index(3));
        if let Ok(d) = DidDocument::from_bytes(&bytes) {
            prop_assert_eq!(d.to_bytes(), bytes);
            for s in &d.services {
                prop_assert!(Endpoint::parse(&s.endpoint).is_ok());
            }
        }
    }
}
