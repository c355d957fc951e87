//! How new trace ids are minted.

use std::fmt;
use std::sync::Arc;

use crate::TraceId;

/// Mints the trace id of a request that arrived without one.
///
/// The default is 128 random bits from a fast thread-local generator, printed as 32 lowercase hex
/// digits: valid for Zipkin, W3C and B3 alike. UUID v4 and UUID v7 (time-ordered, the
/// "timestamp + UUID" of the Java recipe) are options, and so is a function of your own.
///
/// ```
/// use trace_context::IdGenerator;
/// let v7 = IdGenerator::uuid_v7().trace_id();
/// assert_eq!(uuid::Uuid::from_u128(v7.to_u128()).get_version_num(), 7);
/// let mine = IdGenerator::custom(|| trace_context::TraceId::from_u128(42).unwrap());
/// assert_eq!(mine.trace_id().to_u128(), 42);
/// ```
#[derive(Clone, Default)]
pub struct IdGenerator(Kind);

#[derive(Clone, Default)]
enum Kind {
    #[default]
    Random,
    UuidV4,
    UuidV7,
    Custom(Arc<dyn Fn() -> TraceId + Send + Sync>),
}

impl IdGenerator {
    /// 128 random bits (the default).
    ///
    /// ```
    /// let _ = trace_context::IdGenerator::random().trace_id();
    /// ```
    pub fn random() -> Self {
        IdGenerator(Kind::Random)
    }

    /// A random UUID (version 4).
    ///
    /// ```
    /// let id = trace_context::IdGenerator::uuid_v4().trace_id();
    /// assert_eq!(uuid::Uuid::from_u128(id.to_u128()).get_version_num(), 4);
    /// ```
    pub fn uuid_v4() -> Self {
        IdGenerator(Kind::UuidV4)
    }

    /// A time-ordered UUID (version 7): sorts by creation time, 74 random bits.
    ///
    /// ```
    /// let id = trace_context::IdGenerator::uuid_v7().trace_id();
    /// assert_eq!(uuid::Uuid::from_u128(id.to_u128()).get_version_num(), 7);
    /// ```
    pub fn uuid_v7() -> Self {
        IdGenerator(Kind::UuidV7)
    }

    /// Your own generator.
    ///
    /// ```
    /// let g = trace_context::IdGenerator::custom(trace_context::TraceId::random);
    /// let _ = g.trace_id();
    /// ```
    pub fn custom(f: impl Fn() -> TraceId + Send + Sync + 'static) -> Self {
        IdGenerator(Kind::Custom(Arc::new(f)))
    }

    /// Mints one trace id.
    ///
    /// ```
    /// let id = trace_context::IdGenerator::default().trace_id();
    /// assert_eq!(id.to_string().len(), 32);
    /// ```
    pub fn trace_id(&self) -> TraceId {
        match &self.0 {
            Kind::Random => TraceId::random(),
            Kind::UuidV4 => uuid_bits(uuid::Builder::from_random_bytes(random_bytes()).into_uuid()),
            Kind::UuidV7 => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                let millis = now.as_millis() as u64;
                let rand = random_bytes();
                let mut tail = [0u8; 10];
                tail.copy_from_slice(&rand[..10]);
                uuid_bits(uuid::Builder::from_unix_timestamp_millis(millis, &tail).into_uuid())
            }
            Kind::Custom(f) => f(),
        }
    }
}

impl IdGenerator {
    /// True when the ids minted have random rightmost 56 bits (the W3C level 2 `random` flag):
    /// the built-in generators; a custom one promises nothing.
    pub(crate) fn is_random(&self) -> bool {
        !matches!(self.0, Kind::Custom(_))
    }
}

fn random_bytes() -> [u8; 16] {
    fastrand::u128(..).to_be_bytes()
}

fn uuid_bits(u: uuid::Uuid) -> TraceId {
    // Version and variant bits are set, so a UUID is never zero.
    TraceId::from_u128(u.as_u128()).unwrap_or_else(TraceId::random)
}

impl fmt::Debug for IdGenerator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            Kind::Random => "random",
            Kind::UuidV4 => "uuid_v4",
            Kind::UuidV7 => "uuid_v7",
            Kind::Custom(_) => "custom",
        };
        write!(f, "IdGenerator({name})")
    }
}
