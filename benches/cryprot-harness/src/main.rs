//! Measures cryprot-ot 0.2.1 the way `tessera-ot`'s `ot_compare` bench measures ours, and prints
//! one `RESULT` line per variant for `benches/ot_compare.sh`:
//!
//! `RESULT cryprot <variant> <transport> <count> <seconds> <ots_per_s> <bits_per_ot>`
//!
//! cryprot-net only offers QUIC (s2n-quic) over loopback, so its transport is `quic-loopback`.
//! Bytes are cryprot-net's own counters (its `cryprot_metrics` tracing layer), summed over both
//! parties, like ours. Setup (base OTs) is excluded from extension timings, as in ours.
//! Usage: `cryprot-harness [log2 count] [repetitions]`.

use std::time::{Duration, Instant};

use cryprot_core::Block;
use cryprot_net::metrics::{CommLayerData, new_comm_layer};
use cryprot_net::testing::local_conn;
use cryprot_ot::base::SimplestOt;
use cryprot_ot::extension::{MaliciousOtExtensionReceiver, MaliciousOtExtensionSender};
use cryprot_ot::silent_ot::{MaliciousSilentOtReceiver, MaliciousSilentOtSender};
use cryprot_ot::{CotReceiver, CotSender, RotReceiver, RotSender, random_choices};
use rand::SeedableRng;
use rand::rngs::StdRng;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

fn written(data: &CommLayerData) -> u64 {
    data.reset().iter().map(|d| d.write.bytes_with_sub_comm).sum()
}

fn report(variant: &str, count: usize, times: &mut [Duration], bytes: u64, reps: usize) {
    times.sort();
    let t = times[times.len() / 2].as_secs_f64();
    let bits = 8.0 * bytes as f64 / (count * reps) as f64;
    println!(
        "RESULT cryprot {variant} quic-loopback {count} {t:.6} {:.0} {bits:.2}",
        count as f64 / t
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let log2: u32 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(20);
    let reps: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(3);
    let count = 1usize << log2;
    let (layer, data) = new_comm_layer();
    tracing_subscriber::registry().with(layer).init();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async move {
        let (mut c1, mut c2) = local_conn().await.map_err(|e| e.to_string())?;
        let mut rng = StdRng::seed_from_u64(7);

        // 128 base OTs.
        let mut times = Vec::new();
        written(&data);
        for _ in 0..reps.max(5) {
            let choices = random_choices(128, &mut rng);
            let mut s = SimplestOt::new_with_rng(c1.sub_connection(), StdRng::seed_from_u64(1));
            let mut r = SimplestOt::new_with_rng(c2.sub_connection(), StdRng::seed_from_u64(2));
            let now = Instant::now();
            let (a, b) = tokio::join!(
                tokio::spawn(async move { s.send(128).await.map(|_| ()) }),
                tokio::spawn(async move { r.receive(&choices).await.map(|_| ()) })
            );
            a?.map_err(|e| e.to_string())?;
            b?.map_err(|e| e.to_string())?;
            times.push(now.elapsed());
        }
        let n = times.len();
        report("base-128", 128, &mut times, written(&data), n);

        // Malicious KOS: random OT (chosen choices) and correlated OT, base OTs excluded.
        for correlated in [false, true] {
            let mut s = MaliciousOtExtensionSender::new_with_rng(c1.sub_connection(), StdRng::seed_from_u64(3));
            let mut r = MaliciousOtExtensionReceiver::new_with_rng(c2.sub_connection(), StdRng::seed_from_u64(4));
            let (a, b) = tokio::join!(s.do_base_ots(), r.do_base_ots());
            a.map_err(|e| e.to_string())?;
            b.map_err(|e| e.to_string())?;
            written(&data);
            let mut times = Vec::new();
            for _ in 0..reps {
                let choices = random_choices(count, &mut rng);
                let now = Instant::now();
                let (a, b) = if correlated {
                    tokio::join!(
                        async { s.correlated_send(count, |_| Block::ONES).await.map(|_| ()) },
                        async { r.correlated_receive(&choices).await.map(|_| ()) }
                    )
                } else {
                    tokio::join!(
                        async { s.send(count).await.map(|_| ()) },
                        async { r.receive(&choices).await.map(|_| ()) }
                    )
                };
                a.map_err(|e| e.to_string())?;
                b.map_err(|e| e.to_string())?;
                times.push(now.elapsed());
            }
            let v = if correlated { "kos-correlated" } else { "kos-random" };
            report(v, count, &mut times, written(&data), reps);
        }

        // Malicious silent OT (random OT), everything included: it has no separate setup call.
        let mut s = MaliciousSilentOtSender::new(c1.sub_connection());
        let mut r = MaliciousSilentOtReceiver::new(c2.sub_connection());
        written(&data);
        let mut times = Vec::new();
        for _ in 0..reps {
            let now = Instant::now();
            let (a, b) = tokio::join!(
                async { s.random_send(count).await.map(|_| ()) },
                async { r.random_receive(count).await.map(|_| ()) }
            );
            a.map_err(|e| e.to_string())?;
            b.map_err(|e| e.to_string())?;
            times.push(now.elapsed());
        }
        report("silent-random", count, &mut times, written(&data), reps);
        Ok::<_, Box<dyn std::error::Error>>(())
    })
    .map_err(|e| e.to_string())?;
    Ok(())
}
