//! Federated training messages a peer sends: vertical LR's setup header and encrypted rows,
//! Paillier ciphertext vectors, SecureBoost's host setup, rotation keys and gradients, the
//! guest's view of a host's histograms, split masks and quantised prediction scores.
//!
//! Accepted values are checked against their encoders: a header or ciphertext vector written
//! back parses to the same thing, a mask round-trips up to its padding bits, histograms have
//! exactly the shape asked for, dequantised scores are `n` finite numbers.

use std::sync::OnceLock;

use num_bigint_dig::BigUint;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tessera_federated::fuzzing as wire;
use tessera_federated::lr::predict::{dequantise_scores, quantise_scores};
use tessera_fhe::{PaillierCiphertext, PaillierPublicKey, PaillierSecretKey, paillier_keygen};

use crate::target::{Target, Verdict};

/// Rows the LR setup claims (both parties' row counts must agree).
const LR_ROWS: usize = 2;

struct Fixture {
    pk: PaillierPublicKey,
    sk: PaillierSecretKey,
    cts: Vec<PaillierCiphertext>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(23);
        let (pk, sk) = paillier_keygen(1024, &mut rng).expect("keygen");
        let cts = [0u32, 1, 1 << 20, 7]
            .iter()
            .map(|m| pk.encrypt(&BigUint::from(*m), &mut rng).expect("encrypt"))
            .collect();
        Fixture { pk, sk, cts }
    })
}

/// A tiny reader for the fuzz input's own framing (not the protocol's).
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*b)
    }
    fn u16(&mut self) -> Option<usize> {
        let (b, rest) = self.0.split_first_chunk::<2>()?;
        self.0 = rest;
        Some(usize::from(u16::from_le_bytes(*b)))
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (a, b) = self.0.split_at_checked(n)?;
        self.0 = b;
        Some(a)
    }
}

fn framing() -> Verdict {
    Verdict::Rejected("fuzz framing".into())
}

fn check_lr_header(rest: &[u8]) -> Verdict {
    let r = wire::lr_header(rest, LR_ROWS);
    if let Ok((width, pk)) = &r {
        assert!((1..=1 << 20).contains(width), "width in range");
        let again = wire::lr_header(&wire::lr_header_bytes(LR_ROWS, *width, pk), LR_ROWS)
            .expect("a written header parses");
        assert_eq!((again.0, again.1.modulus()), (*width, pk.modulus()), "header round trip");
    }
    Verdict::of(&r)
}

fn check_lr_rows(mut input: Input<'_>) -> Verdict {
    let Some(head_len) = input.u16() else { return framing() };
    let Some(head) = input.take(head_len) else { return framing() };
    let body = input.0;
    let r = wire::lr_peer_rows(head, body, LR_ROWS);
    if let Ok((width, count)) = &r {
        let (_, pk) = wire::lr_header(head, LR_ROWS).expect("the header was accepted");
        assert_eq!(*count, LR_ROWS * wire::lr_ciphertexts_per_row(&pk, *width), "row count");
        assert_eq!(body.len(), count * pk.ciphertext_len(), "ciphertext bytes");
    }
    Verdict::of(&r)
}

fn check_cts(rest: &[u8]) -> Verdict {
    let f = fixture();
    let count = rest.len() / f.pk.ciphertext_len().max(1);
    let r = wire::paillier_cts(&f.pk, rest, count);
    if let Ok(cts) = &r {
        assert_eq!(wire::paillier_cts_bytes(&f.pk, cts), rest, "ciphertext vector round trip");
    }
    Verdict::of(&r)
}

fn check_host(mut input: Input<'_>) -> Verdict {
    let (Some(scheme), Some(m), Some(has_keys)) = (input.byte(), input.u16(), input.byte()) else {
        return framing();
    };
    let Some(setup_len) = input.u16() else { return framing() };
    let Some(setup) = input.take(setup_len) else { return framing() };
    let keys = if has_keys % 2 == 1 {
        let Some(len) = input.u16() else { return framing() };
        let Some(k) = input.take(len) else { return framing() };
        Some(k)
    } else {
        None
    };
    Verdict::of(&wire::boost_host(scheme, setup, keys, input.0, m))
}

fn check_guest(mut input: Input<'_>) -> Verdict {
    let (Some(packed), Some(nodes), Some(features)) = (input.byte(), input.byte(), input.byte())
    else {
        return framing();
    };
    let (nodes, features) = (usize::from(nodes % 4), usize::from(features % 4));
    let mut bins = Vec::with_capacity(features);
    for _ in 0..features {
        let Some(b) = input.byte() else { return framing() };
        bins.push(usize::from(b % 32));
    }
    let f = fixture();
    let r = wire::boost_guest_paillier(&f.pk, &f.sk, packed % 2 == 1, input.0, nodes, &bins);
    if let Ok(hists) = &r {
        assert_eq!(hists.len(), nodes, "one histogram per node");
        for h in hists {
            let shape: Vec<usize> = h.iter().map(Vec::len).collect();
            assert_eq!(shape, bins, "bins per feature");
            assert!(h.iter().flatten().all(|(g, h)| g.is_finite() && h.is_finite()), "finite");
        }
    }
    Verdict::of(&r)
}

fn check_mask(mut input: Input<'_>) -> Verdict {
    let Some(len) = input.u16() else { return framing() };
    let bytes = input.0;
    let r = wire::boost_mask(bytes, len);
    if let Ok(mask) = &r {
        assert_eq!(mask.len(), len, "mask length");
        let mut want = bytes.to_vec();
        if len % 8 != 0
            && let Some(last) = want.last_mut()
        {
            *last &= (1u8 << (len % 8)) - 1;
        }
        assert_eq!(wire::boost_mask_bytes(mask), want, "mask round trip");
    }
    Verdict::of(&r)
}

fn check_scores(mut input: Input<'_>) -> Verdict {
    let (Some(bits), Some(n)) = (input.byte(), input.u16()) else { return framing() };
    let r = dequantise_scores(input.0, n, u32::from(bits));
    if let Ok(v) = &r {
        assert_eq!(v.len(), n, "one score per row");
        assert!(v.iter().all(|s| s.is_finite()), "finite scores");
    }
    Verdict::of(&r)
}

fn check(data: &[u8]) -> Verdict {
    let Some((&which, rest)) = data.split_first() else {
        return Verdict::Rejected("empty".into());
    };
    match which % 7 {
        0 => check_lr_header(rest),
        1 => check_lr_rows(Input(rest)),
        2 => check_cts(rest),
        3 => check_host(Input(rest)),
        4 => check_guest(Input(rest)),
        5 => check_mask(Input(rest)),
        _ => check_scores(Input(rest)),
    }
}

fn u16le(v: usize) -> [u8; 2] {
    u16::try_from(v).expect("seed part below 64 KiB").to_le_bytes()
}

fn seeds() -> Vec<Vec<u8>> {
    let f = fixture();
    let cts = |k: usize| wire::paillier_cts_bytes(&f.pk, &f.cts[..k]);
    let width = 3;
    let head = wire::lr_header_bytes(LR_ROWS, width, &f.pk);
    let per_row = wire::lr_ciphertexts_per_row(&f.pk, width);
    let rows: Vec<PaillierCiphertext> =
        (0..LR_ROWS * per_row).map(|i| f.cts[i % f.cts.len()].clone()).collect();
    let pk = f.pk.to_bytes();
    let host = |scheme: u8, m: usize, grads: &[u8]| {
        let mut s = vec![3u8, scheme];
        s.extend(u16le(m));
        s.push(0);
        s.extend(u16le(pk.len()));
        s.extend(&pk);
        s.extend(grads);
        s
    };
    let mut scores = Vec::new();
    quantise_scores(&[0.25, -1.5, 3.0], 8, &mut scores).expect("quantise");
    vec![
        [&[0u8][..], &head].concat(),
        [&[1u8][..], &u16le(head.len()), &head, &wire::paillier_cts_bytes(&f.pk, &rows)].concat(),
        [&[2u8][..], &cts(3)].concat(),
        host(1, 2, &cts(2)),
        host(2, 2, &cts(4)),
        // BFV host: empty setup, then rotation keys (count 0: refused, no key for one step).
        [&[3u8, 3][..], &u16le(1), &[1], &u16le(0), &u16le(1), &[0]].concat(),
        // Guest: packed, 1 node, 2 features of 3 and 2 bins (one packed ciphertext each).
        [&[4u8, 1, 1, 2, 3, 2][..], &cts(2)].concat(),
        // Guest: per value, 1 node, 1 feature of 2 bins (2 ciphertexts per bin).
        [&[4u8, 0, 1, 1, 2][..], &cts(4)].concat(),
        [&[5u8][..], &u16le(11), &wire::boost_mask_bytes(&[true; 11])].concat(),
        [&[6u8, 8][..], &u16le(3), &scores].concat(),
    ]
}

/// The federated wire target.
pub fn targets() -> Vec<Target> {
    vec![Target {
        name: "federated_wire",
        about: "vertical LR setup and encrypted rows, Paillier vectors, SecureBoost host setup/keys/gradients, guest histograms, masks, quantised scores",
        seeds,
        check,
        max_len: 8 << 10,
        dict: &[],
        // A BFV host builds its NTT tables (N = 4096) before reading anything.
        alloc_fixed: 8 << 20,
        ci_execs: 400,
    }]
}
