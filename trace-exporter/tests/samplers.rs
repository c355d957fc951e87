//! Samplers: the 56-bit probability rule (random and UUIDv4 ids), rate limit, parent-based
//! decisions from real B3 and W3C headers, and the environment names.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use trace_context::codec::b3::B3Context;
use trace_context::{decide, Sampling, TraceId};
use trace_exporter::{
    parse_sampler, AllOf, AlwaysOff, AlwaysOn, ParentBased, ProbabilitySampler,
    RateLimitingSampler, Sampler, SamplerSpec,
};

/// Within 5 standard deviations of the binomial mean.
fn assert_binomial(count: usize, n: usize, p: f64) {
    let mean = n as f64 * p;
    let sigma = (n as f64 * p * (1.0 - p)).sqrt();
    let dev = (count as f64 - mean).abs();
    assert!(
        dev <= 5.0 * sigma,
        "{count} of {n} at p={p}: {dev} > 5 sigma ({sigma})"
    );
}

/// A UUIDv4 (version nibble 4, RFC 4122 variant bits) as a trace id.
fn uuid_v4_id() -> TraceId {
    let mut v = fastrand_u128();
    v &= !(0xf << 76);
    v |= 0x4 << 76; // version 4
    v &= !(0x3 << 62);
    v |= 0x2 << 62; // variant 10
    TraceId::from_u128(v).unwrap()
}

fn fastrand_u128() -> u128 {
    TraceId::random().to_u128()
}

#[test]
fn probability_quarter_on_random_ids() {
    let a = ProbabilitySampler::new(0.25).unwrap();
    let b = ProbabilitySampler::new(0.25).unwrap();
    let ids: Vec<TraceId> = (0..20_000).map(|_| TraceId::random()).collect();
    let da: Vec<bool> = ids
        .iter()
        .map(|&id| a.should_sample(id, Sampling::Deferred))
        .collect();
    let db: Vec<bool> = ids
        .iter()
        .map(|&id| b.should_sample(id, Sampling::Deferred))
        .collect();
    assert_eq!(da, db, "two samplers given the same ids decide identically");
    assert_binomial(da.iter().filter(|&&s| s).count(), ids.len(), 0.25);
}

#[test]
fn probability_quarter_on_uuid_v4_ids() {
    // OpenTelemetry's TraceIdRatioBased samples none of these at p <= 0.5.
    let s = ProbabilitySampler::new(0.25).unwrap();
    let ids: Vec<TraceId> = (0..20_000).map(|_| uuid_v4_id()).collect();
    let n = ids
        .iter()
        .filter(|&&id| s.should_sample(id, Sampling::Deferred))
        .count();
    assert_binomial(n, ids.len(), 0.25);
    // The same id parsed from its hyphenated text decides the same way.
    for &id in ids.iter().take(200) {
        let hex = id.to_string();
        let text = format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        );
        let parsed = TraceId::parse(&text).unwrap();
        assert_eq!(
            s.should_sample(parsed, Sampling::Deferred),
            s.should_sample(id, Sampling::Deferred)
        );
    }
}

#[test]
fn probability_extremes_and_other_rates() {
    let ids: Vec<TraceId> = (0..20_000).map(|_| TraceId::random()).collect();
    for p in [0.01, 0.1, 0.5, 0.9] {
        let s = ProbabilitySampler::new(p).unwrap();
        let n = ids.iter().filter(|&&id| s.samples(id)).count();
        assert_binomial(n, ids.len(), p);
    }
    let none = ProbabilitySampler::new(0.0).unwrap();
    let all = ProbabilitySampler::new(1.0).unwrap();
    assert!(ids.iter().all(|&id| !none.samples(id) && all.samples(id)));
}

#[test]
fn rate_limit_100_per_second_over_two_seconds() {
    let now = Arc::new(AtomicU64::new(0));
    let clock = {
        let now = Arc::clone(&now);
        move || now.load(Ordering::Relaxed)
    };
    let s = RateLimitingSampler::with_clock(100, clock);
    let attempts = 10_000u64;
    let mut sampled = 0;
    for i in 0..attempts {
        // 10,000 attempts spread evenly over two seconds.
        now.store(i * 2_000_000_000 / attempts, Ordering::Relaxed);
        if s.should_sample(TraceId::random(), Sampling::Deferred) {
            sampled += 1;
        }
    }
    assert!((195..=200).contains(&sampled), "{sampled}");
}

#[test]
fn rate_limit_on_the_real_clock_is_bounded_by_elapsed_seconds() {
    let s = RateLimitingSampler::new(50);
    let start = std::time::Instant::now();
    let sampled = (0..100_000)
        .filter(|_| s.should_sample(TraceId::random(), Sampling::Deferred))
        .count() as u64;
    let seconds = start.elapsed().as_secs() + 1;
    assert!(sampled <= 50 * seconds, "{sampled} in {seconds} s");
    assert!(sampled >= 1);
}

#[test]
fn rate_limit_is_shared_by_threads() {
    let now = Arc::new(AtomicU64::new(0));
    let clock = {
        let now = Arc::clone(&now);
        move || now.load(Ordering::Relaxed)
    };
    now.store(999_000_000, Ordering::Relaxed); // last decisecond: the whole budget
    let s = Arc::new(RateLimitingSampler::with_clock(1000, clock));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let s = Arc::clone(&s);
            std::thread::spawn(move || (0..5000).filter(|_| s.try_acquire()).count())
        })
        .collect();
    let total: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(total, 1000);
}

#[test]
fn parent_based_follows_real_headers() {
    let s = ParentBased::new(AlwaysOff);
    let id = TraceId::random();
    let cases = [
        (
            "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1",
            Sampling::Sampled,
            true,
        ),
        (
            "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-0",
            Sampling::NotSampled,
            false,
        ),
        (
            "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-d",
            Sampling::Debug,
            true,
        ),
        // Deferred: decided here (AlwaysOff says no), not dropped.
        (
            "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1",
            Sampling::Deferred,
            false,
        ),
    ];
    for (header, upstream, want) in cases {
        let b3 = B3Context::parse_single(header.as_bytes()).unwrap();
        assert_eq!(b3.sampling, upstream, "{header}");
        assert_eq!(decide(&s, id, b3.sampling).is_sampled(), want, "{header}");
    }
    // A deferred decision goes to the root sampler.
    let on = ParentBased::new(AlwaysOn);
    assert!(decide(&on, id, Sampling::Deferred).is_sampled());
    assert!(!decide(&on, id, Sampling::NotSampled).is_sampled());
    // B3 debug forces sampling even over a sampler that never samples.
    assert_eq!(decide(&AlwaysOff, id, Sampling::Debug), Sampling::Debug);
}

#[test]
fn parent_based_over_probability_decides_roots_deterministically() {
    let s = ParentBased::new(ProbabilitySampler::new(0.25).unwrap());
    let p = ProbabilitySampler::new(0.25).unwrap();
    for _ in 0..2000 {
        let id = TraceId::random();
        assert_eq!(s.should_sample(id, Sampling::Deferred), p.samples(id));
        assert!(s.should_sample(id, Sampling::Sampled));
        assert!(!s.should_sample(id, Sampling::NotSampled));
    }
}

#[test]
fn composition_stops_at_the_first_no() {
    let now = Arc::new(AtomicU64::new(999_000_000));
    let clock = {
        let now = Arc::clone(&now);
        move || now.load(Ordering::Relaxed)
    };
    // Probability first: the rate budget is only spent on traces it accepted.
    let s = AllOf::new()
        .with(ProbabilitySampler::new(0.0).unwrap())
        .with(RateLimitingSampler::with_clock(5, clock.clone()));
    assert!((0..100).all(|_| !s.should_sample(TraceId::random(), Sampling::Deferred)));
    let s = AllOf::new()
        .with(ProbabilitySampler::new(1.0).unwrap())
        .with(RateLimitingSampler::with_clock(5, clock));
    let n = (0..100)
        .filter(|_| s.should_sample(TraceId::random(), Sampling::Deferred))
        .count();
    assert_eq!(n, 5);
}

#[test]
fn environment_names() {
    assert_eq!(
        parse_sampler("parentbased_traceidratio", Some("0.25")).unwrap(),
        SamplerSpec::ParentBasedTraceIdRatio(0.25)
    );
    assert!(parse_sampler("traceidratio", Some("2.0")).is_err());
    assert!(parse_sampler("traceidratio", Some("abc")).is_err());
    assert!(parse_sampler("sometimes", None).is_err());
    let s = parse_sampler("always_off", None).unwrap().build();
    assert!(!s.should_sample(TraceId::random(), Sampling::Sampled));
    let s = parse_sampler("parentbased_always_off", None)
        .unwrap()
        .build();
    assert!(s.should_sample(TraceId::random(), Sampling::Sampled));
}
