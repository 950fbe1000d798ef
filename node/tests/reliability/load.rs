//! Item 3: jobs/s and job latency with N concurrent jobs (N trios, one served ledger), and 200
//! jobs back to back on one trio with the process's resident memory and open file descriptors.

use std::time::{Duration, Instant};

use super::cluster::{Cluster, open_fds, program, quantile, quick_options, rss_bytes};

/// Figures of one load run.
struct Load {
    jobs: usize,
    wall: Duration,
    latencies: Vec<Duration>,
}

impl Load {
    fn line(&self, what: &str) -> String {
        format!(
            "{what}: {} jobs in {:.2} s = {:.2} jobs/s; latency p50 {} ms, p99 {} ms, max {} ms",
            self.jobs,
            self.wall.as_secs_f64(),
            self.jobs as f64 / self.wall.as_secs_f64(),
            quantile(&self.latencies, 0.5).as_millis(),
            quantile(&self.latencies, 0.99).as_millis(),
            quantile(&self.latencies, 1.0).as_millis(),
        )
    }
}

/// One job on trio `t`, checked; its latency (start to the last party's return).
fn one_job(c: &Cluster, t: usize) -> Duration {
    let spec = c.spec(t);
    let runs = c.run(t, &spec, &|_| quick_options());
    if let Err(e) = c.check_success(t, &runs) {
        panic!("job {} on trio {t}: {e}", spec.job_id);
    }
    runs.iter().map(|r| r.elapsed).max().unwrap_or_default()
}

/// `waves` rounds of `n` simultaneous jobs, one per trio `0..n`.
fn concurrent(c: &Cluster, n: usize, waves: usize) -> Load {
    let start = Instant::now();
    let mut latencies = Vec::new();
    for _ in 0..waves {
        let wave: Vec<Duration> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..n).map(|t| s.spawn(move || one_job(c, t))).collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        latencies.extend(wave);
    }
    Load { jobs: n * waves, wall: start.elapsed(), latencies }
}

/// Memory and descriptors after some jobs.
#[derive(Clone, Copy, Debug)]
struct Footprint {
    jobs: usize,
    rss: u64,
    fds: usize,
}

/// `jobs` jobs back to back on trio 0; the footprint after each job listed in `marks`.
fn back_to_back(c: &Cluster, jobs: usize, marks: &[usize]) -> (Load, Vec<Footprint>) {
    let start = Instant::now();
    let mut latencies = Vec::new();
    let mut prints = Vec::new();
    for j in 1..=jobs {
        latencies.push(one_job(c, 0));
        if marks.contains(&j) {
            prints.push(Footprint { jobs: j, rss: rss_bytes(), fds: open_fds() });
        }
    }
    (Load { jobs, wall: start.elapsed(), latencies }, prints)
}

const MIB: u64 = 1 << 20;

#[test]
fn load_small_concurrent_and_back_to_back_jobs_succeed() {
    // Count and sum of 5 values per party: the cheapest job.
    let c = Cluster::new(2, 5, program(false), &|_, _| None);
    for n in [1, 2] {
        eprintln!("{}", concurrent(&c, n, 1).line(&format!("N = {n}")));
    }
    let (load, prints) = back_to_back(&c, 5, &[1, 5]);
    eprintln!("{}; footprints {prints:?}", load.line("5 back to back"));
}

/// The recorded figures (docs/RELIABILITY.md, "Node under load").
#[test]
#[ignore = "soak: run with --release --ignored --nocapture (several minutes)"]
fn load_soak_figures() {
    let t = Instant::now();
    let c = Cluster::new(32, 10, program(false), &|_, _| None);
    eprintln!("setup: 96 nodes, DIDs, data sets and grants in {:.1} s", t.elapsed().as_secs_f64());
    for (n, waves) in [(1, 20), (8, 5), (32, 3)] {
        eprintln!("{}", concurrent(&c, n, waves).line(&format!("N = {n:2} concurrent")));
    }
    let (load, prints) = back_to_back(&c, 200, &[1, 20, 50, 100, 150, 200]);
    eprintln!("{}", load.line("200 back to back"));
    for p in &prints {
        eprintln!(
            "  after {:3} jobs: RSS {:.1} MiB, {} open fds",
            p.jobs,
            p.rss as f64 / MIB as f64,
            p.fds
        );
    }
    let at = |j: usize| prints.iter().find(|p| p.jobs == j).copied().unwrap();
    let (a, b) = (at(20), at(200));
    // The leak bound: 180 more jobs may not add more than 64 MiB of resident memory (a job
    // holds a few MiB while it runs), nor any descriptor beyond a small slack.
    assert!(b.rss <= a.rss + 64 * MIB, "RSS grew from {} to {} bytes", a.rss, b.rss);
    assert!(b.fds <= a.fds + 8, "open fds grew from {} to {}", a.fds, b.fds);
}
