//! Walkthrough: a ledger with one validator; two DIDs, a data set, a grant, a computation
//! commitment signed by both parties, offline verification of its receipts, and k-of-n recovery of
//! a DID whose key is lost.
//!
//! Run: `cargo run -p tessera-ledger --example ledger_walkthrough`

use tessera_ledger::*;

fn main() -> Result<()> {
    // Genesis: two organisations, 2-of-2 admin governance, one validator, SM3 as the ledger hash.
    let validator = KeyPair::generate(SignatureSuite::Ed25519)?;
    let admin_a = KeyPair::generate(SignatureSuite::Sm2)?;
    let admin_b = KeyPair::generate(SignatureSuite::Secp256k1)?;
    let genesis = Genesis {
        chain_name: "walkthrough".into(),
        time_ms: 0,
        hash: LedgerHash::Sm3,
        orgs: vec![
            Org { name: "hospital".into(), admins: vec![admin_a.public_key()] },
            Org { name: "insurer".into(), admins: vec![admin_b.public_key()] },
        ],
        admin_threshold: 2,
        supervisors: vec![],
        validators: ValidatorSet::new(vec![Validator {
            name: "v0".into(),
            key: validator.public_key(),
        }])?,
    };
    println!("genesis file:\n{}", genesis.to_json()?);
    let dir = std::env::temp_dir().join(format!("tessera-walkthrough-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let ledger = Ledger::create(dir.join("ledger.redb"), &genesis)?;
    let chain = ledger.chain_id();
    let guard = SignGuard::create(dir.join("validator.guard"))?;
    let mut engine = SingleValidator::new(ledger, validator, guard, EngineConfig::default())?;
    let mut now = 1_000u64;
    let mut seal = |engine: &mut SingleValidator| -> Result<()> {
        now += 1_000;
        let out = engine.seal(now)?.ok_or(Error::Misuse("nothing to seal"))?;
        for (id, e) in &out.rejected {
            let short: String = id[..4].iter().map(|b| format!("{b:02x}")).collect();
            println!("  rejected {short}…: {e}");
        }
        println!("  block {} sealed with {} transaction(s)", out.height, out.accepted.len());
        Ok(())
    };

    // 1. DIDs: the hospital registers did:tessera:hospital (SM2 key); the analyst uses did:key.
    let hospital_key = KeyPair::generate(SignatureSuite::Sm2)?;
    let hospital = KeyRef::new(Did::tessera("hospital")?, "key-1");
    let analyst_key = KeyPair::generate(SignatureSuite::Ed25519)?;
    let analyst = KeyRef::did_key(analyst_key.public_key());
    println!("analyst DID: {}", analyst.did);
    let doc = DidDocument::new("hospital", "key-1", hospital_key.public_key());
    engine.submit(Transaction::sign(
        &chain,
        hospital.clone(),
        1,
        TxBody::CreateDid(doc),
        &hospital_key,
    ))?;
    seal(&mut engine)?;

    // 2. A data set and a grant of it to both parties for one program, 10 uses, 1 hour.
    let program = LedgerHash::Sm3.hash(&[b"logistic-regression v1"]);
    let body = TxBody::RegisterDataSet {
        id: "patients-2026".into(),
        content_hash: HashAlg::Sm3.digest(b"...rows..."),
        schema_hash: HashAlg::Sha256.digest(b"age:int,outcome:bool"),
    };
    engine.submit(Transaction::sign(&chain, hospital.clone(), 2, body, &hospital_key))?;
    let body = TxBody::Grant {
        dataset: "patients-2026".into(),
        grant: "lr-study".into(),
        program_hash: program,
        grantees: vec![hospital.did.clone(), analyst.did.clone()],
        expires_at_ms: 100_000_000,
        max_uses: 10,
    };
    engine.submit(Transaction::sign(&chain, hospital.clone(), 3, body, &hospital_key))?;
    seal(&mut engine)?;

    // 3. The computation ran; both parties sign what it committed to, the analyst submits.
    let mut c = Commitment {
        job_id: "job-42".into(),
        participants: vec![hospital.did.clone(), analyst.did.clone()],
        program_hash: program,
        inputs: vec![InputCommitment {
            dataset: "patients-2026".into(),
            grant: "lr-study".into(),
            commitment: LedgerHash::Sm3.hash(&[b"input share commitment"]),
        }],
        result_hash: LedgerHash::Sm3.hash(&[b"model weights"]),
        tee_evidence_hash: None,
        signatures: vec![],
    };
    c.sign_as(&chain, hospital.clone(), &hospital_key);
    c.sign_as(&chain, analyst.clone(), &analyst_key);
    let id = engine.submit(Transaction::sign(
        &chain,
        analyst.clone(),
        1,
        TxBody::Commit(c.clone()),
        &analyst_key,
    ))?;
    seal(&mut engine)?;

    // A commitment for a program the grant does not cover is refused.
    let mut bad = c.clone();
    bad.job_id = "job-43".into();
    bad.program_hash = LedgerHash::Sm3.hash(&[b"exfiltrate"]);
    bad.signatures.clear();
    bad.sign_as(&chain, hospital.clone(), &hospital_key);
    bad.sign_as(&chain, analyst.clone(), &analyst_key);
    engine.submit(Transaction::sign(
        &chain,
        analyst.clone(),
        2,
        TxBody::Commit(bad),
        &analyst_key,
    ))?;
    seal(&mut engine)?;

    // 4. Receipts, checked with nothing but the validator set.
    let receipt = engine.ledger().tx_receipt(&id)?;
    let bytes = receipt.to_bytes();
    let offline = Receipt::from_bytes(&bytes)?;
    verify_receipt(&offline, &genesis.chain_id(), &genesis.validators)?;
    println!(
        "transaction receipt ({} bytes) verified at height {}",
        bytes.len(),
        offline.header.height
    );
    let receipt = engine.ledger().state_receipt(&StateKey::Job("job-42".into()))?;
    verify_receipt(&receipt, &genesis.chain_id(), &genesis.validators)?;
    println!("state receipt for job-42 ({} bytes) verified", receipt.to_bytes().len());
    let absent = engine.ledger().state_receipt(&StateKey::Job("job-43".into()))?;
    verify_receipt(&absent, &genesis.chain_id(), &genesis.validators)?;
    println!("absence receipt for job-43 verified");
    let mut tampered = Receipt::from_bytes(&bytes)?;
    tampered.header.time_ms += 1;
    println!(
        "tampered receipt: {}",
        verify_receipt(&tampered, &genesis.chain_id(), &genesis.validators).unwrap_err()
    );

    // 5. Key recovery: a recovery key for the hospital's DID dealt 2-of-3 among holders (did:key
    //    holders here; node DIDs in the CLI), each share sealed to its holder's key and published
    //    with the Feldman commitments; after losing its key the hospital rotates to a new one
    //    with two holders' shares.
    let holders: Vec<KeyPair> =
        [SignatureSuite::Ed25519, SignatureSuite::Secp256k1, SignatureSuite::Sm2]
            .iter()
            .map(|s| KeyPair::generate(*s))
            .collect::<Result<_>>()?;
    let refs: Vec<(KeyRef, PublicKey)> =
        holders.iter().map(|h| (KeyRef::did_key(h.public_key()), h.public_key())).collect();
    let suite = recovery::recovery_suite(SignatureSuite::Sm2);
    let backup = recovery::deal(&chain, "hospital", "b1", suite, 2, &refs)?;
    let cur = engine.ledger().resolve(&hospital.did)?;
    let mut doc = cur.clone();
    (doc.controllers, doc.threshold) =
        recovery::with_recovery_controller(&cur, &backup.recovery_did()?)?;
    doc.version += 1;
    let msg = did_update_message(&chain, "hospital", cur.version, Some(&doc));
    let approvals = vec![Approval { signer: hospital.clone(), signature: hospital_key.sign(&msg) }];
    let body = TxBody::UpdateDid { document: doc, approvals };
    engine.submit(Transaction::sign(&chain, hospital.clone(), 4, body, &hospital_key))?;
    let body = TxBody::RecoveryBackup(backup.clone());
    engine.submit(Transaction::sign(&chain, hospital.clone(), 5, body, &hospital_key))?;
    seal(&mut engine)?;
    let new_key = KeyPair::generate(SignatureSuite::Sm2)?;
    let mut shares = Vec::new();
    for i in [1u8, 3] {
        let s = recovery::open_share(&backup, &chain, i, &holders[usize::from(i) - 1])?;
        let sealed = recovery::transfer_share(&backup, &chain, &s, &new_key.public_key())?;
        shares.push((i, recovery::open_transfer(&backup, &chain, i, &new_key, &sealed)));
    }
    let rk = recovery::recover_key(&backup, shares)?.key;
    let cur = engine.ledger().resolve(&hospital.did)?;
    let mut doc = cur.clone();
    doc.methods[0].key = new_key.public_key();
    doc.controllers.clear();
    doc.version += 1;
    let approvals = vec![recovery::rotation_approval(&chain, &cur, &doc, &rk)];
    let body = TxBody::UpdateDid { document: doc, approvals };
    engine.submit(Transaction::sign(&chain, KeyRef::did_key(rk.public_key()), 1, body, &rk))?;
    seal(&mut engine)?;
    let now_doc = engine.ledger().resolve(&hospital.did)?;
    assert_eq!(now_doc.method("key-1"), Some(&new_key.public_key()));
    println!("hospital DID rotated to a new key with 2 of 3 holders' shares");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
