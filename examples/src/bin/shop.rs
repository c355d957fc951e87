//! The shop demo: four traced services in one process, two sample orders, their log lines and
//! their traces drawn as waterfalls. `shop --help` for the options; `shop gateway|order|user|
//! product --help` to run one service alone.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use examples::demo::{self, SampleOrder};
use examples::server::{bind, serve};
use examples::services::order::OrderRequest;
use examples::services::Service;
use examples::shop::{self, ShopConfig};
use examples::telemetry::{self, LogCapture, Telemetry, TelemetryConfig};
use examples::waterfall;

/// The four-service shop (gateway -> order -> user, product), traced with trace-kit.
///
/// Without a command: starts the four services on loopback, sends a sample order through the
/// gateway (once without X-App-Trace-Id, once with one), prints the services' log lines and
/// draws each trace as a waterfall, then exits (or keeps serving with --serve).
#[derive(Parser, Debug)]
#[command(name = "shop", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    demo: DemoArgs,
    #[command(flatten)]
    tracing: TracingArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the gateway alone: routes /server-order/** to the order service.
    Gateway {
        /// Port to listen on (127.0.0.1).
        #[arg(long, default_value_t = Service::Gateway.default_port())]
        port: u16,
        /// Base URL of the order service.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        order_url: String,
    },
    /// Run the order service alone: GET /order/submit_order?userId=&productId=&count=.
    Order {
        /// Port to listen on (127.0.0.1).
        #[arg(long, default_value_t = Service::Order.default_port())]
        port: u16,
        /// Base URL of the user service.
        #[arg(long, default_value = "http://127.0.0.1:8060")]
        user_url: String,
        /// Base URL of the product service.
        #[arg(long, default_value = "http://127.0.0.1:8070")]
        product_url: String,
    },
    /// Run the user service alone: GET /user/get/{uid}.
    User {
        /// Port to listen on (127.0.0.1).
        #[arg(long, default_value_t = Service::User.default_port())]
        port: u16,
    },
    /// Run the product service alone: GET /product/get/{pid}, GET /product/update_count/{pid}/{count}.
    Product {
        /// Port to listen on (127.0.0.1).
        #[arg(long, default_value_t = Service::Product.default_port())]
        port: u16,
    },
}

#[derive(Args, Debug)]
struct DemoArgs {
    /// Gateway port (0 picks a free port).
    #[arg(long, default_value_t = Service::Gateway.default_port())]
    gateway_port: u16,
    /// Order service port.
    #[arg(long, default_value_t = Service::Order.default_port())]
    order_port: u16,
    /// User service port.
    #[arg(long, default_value_t = Service::User.default_port())]
    user_port: u16,
    /// Product service port.
    #[arg(long, default_value_t = Service::Product.default_port())]
    product_port: u16,
    /// After the sample orders, keep serving until Ctrl-C (log lines go to stdout).
    #[arg(long)]
    serve: bool,
    /// Skip the sample orders (with --serve: just serve).
    #[arg(long)]
    no_orders: bool,
    /// User of the sample order (1001-1003 exist).
    #[arg(long, default_value_t = 1001)]
    user_id: u64,
    /// Product of the sample order (1001-1003 exist; another id shows the error path).
    #[arg(long, default_value_t = 1001)]
    product_id: u64,
    /// Items in the sample order.
    #[arg(long, default_value_t = 1)]
    count: u64,
    /// X-App-Trace-Id of the second order (default: a random 32-hex-digit id).
    #[arg(long)]
    app_trace_id: Option<String>,
    /// Directory for the Zipkin v2 JSON files of the traces (default: <temp dir>/trace-kit-shop).
    #[arg(long)]
    out_dir: Option<PathBuf>,
    /// Width of the waterfall's time axis, in characters.
    #[arg(long, default_value_t = 40)]
    bar_width: usize,
}

#[derive(Args, Debug)]
struct TracingArgs {
    /// Also send spans to this Zipkin (e.g. http://localhost:9411); default: the
    /// OTEL_EXPORTER_ZIPKIN_ENDPOINT environment variable, else none.
    #[arg(long, global = true)]
    zipkin: Option<String>,
    /// Share of traces reported, 0.0 to 1.0 (the decision is taken on the trace id, and
    /// followed downstream).
    #[arg(long, global = true, default_value_t = 1.0)]
    sample_probability: f64,
    /// Write every reported span to this file as one Zipkin v2 JSON list (default for the
    /// demo run: <out dir>/shop-spans.json; services run alone: none).
    #[arg(long, global = true)]
    spans_file: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("shop: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shop: {e}");
            ExitCode::FAILURE
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long to wait for queued spans to reach the file and Zipkin at the end.
const SPANS_DELIVERY: std::time::Duration = std::time::Duration::from_secs(2);

async fn run(cli: Cli) -> Result<(), BoxError> {
    if !(0.0..=1.0).contains(&cli.tracing.sample_probability) {
        return Err("--sample-probability must be between 0.0 and 1.0".into());
    }
    let zipkin_url = cli
        .tracing
        .zipkin
        .clone()
        .or_else(|| std::env::var("OTEL_EXPORTER_ZIPKIN_ENDPOINT").ok())
        .filter(|u| !u.trim().is_empty());
    if cfg!(not(feature = "instrumented")) && zipkin_url.is_some() {
        eprintln!("shop: this build has no exporter (built without the `instrumented` feature): no spans are sent to Zipkin");
    }
    match cli.command {
        None => run_demo(&cli.demo, &cli.tracing, zipkin_url).await,
        Some(command) => run_alone(command, &cli.tracing, zipkin_url).await,
    }
}

/// The four services in this process, the sample orders, then exit or serve.
async fn run_demo(
    args: &DemoArgs,
    tracing: &TracingArgs,
    zipkin_url: Option<String>,
) -> Result<(), BoxError> {
    let out_dir = args
        .out_dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("trace-kit-shop"));
    let spans_file = match (&tracing.spans_file, args.no_orders) {
        (Some(path), _) => Some(path.clone()),
        (None, false) => Some(out_dir.join("shop-spans.json")),
        (None, true) => None,
    };
    let telemetry = telemetry::install(TelemetryConfig {
        logs: LogCapture::new(10_000),
        sample_probability: tracing.sample_probability,
        zipkin_url: zipkin_url.clone(),
        keep_spans: !args.no_orders,
        spans_file: spans_file.clone(),
        ..TelemetryConfig::default()
    })?;
    let shop = shop::start(&ShopConfig {
        gateway_port: args.gateway_port,
        order_port: args.order_port,
        user_port: args.user_port,
        product_port: args.product_port,
        ..ShopConfig::default()
    })
    .await?;
    println!(
        "shop: gateway {} -> order {} -> user {}, product {}",
        shop.gateway.url(),
        shop.order.url(),
        shop.user.url(),
        shop.product.url()
    );
    if let Some(url) = &zipkin_url {
        println!("shop: spans also go to Zipkin at {url}");
    }
    let order = OrderRequest {
        user_id: args.user_id,
        product_id: args.product_id,
        count: args.count,
    };
    if !args.no_orders {
        let app_id = args
            .app_trace_id
            .clone()
            .unwrap_or_else(demo::random_app_trace_id);
        let options = waterfall::Options {
            bar_width: args.bar_width,
            ..Default::default()
        };
        let samples: Vec<SampleOrder> = demo::sample_orders(order, app_id);
        let total = samples.len();
        let mut stdout = std::io::stdout().lock();
        for (i, sample) in samples.iter().enumerate() {
            let outcome = demo::send_order(&shop, &telemetry, sample, Some(&out_dir)).await?;
            let how = if sample.app_trace_id.is_some() {
                "with X-App-Trace-Id"
            } else {
                "without X-App-Trace-Id"
            };
            let title = format!("order {} of {total}, {how}", i + 1);
            demo::print_outcome(&mut stdout, &title, &outcome, &options)?;
        }
        telemetry.flush(SPANS_DELIVERY);
        if let (true, Some(path)) = (cfg!(feature = "instrumented"), &spans_file) {
            println!(
                "\nall spans of this run: {} (one Zipkin v2 JSON list: Zipkin UI \"Upload JSON\", or trace-view {})",
                path.display(),
                path.display()
            );
        }
    }
    if args.serve {
        serve_until_ctrl_c(&telemetry, &shop, order).await?;
    }
    shop.shutdown().await?;
    telemetry.shutdown(SPANS_DELIVERY);
    Ok(())
}

async fn serve_until_ctrl_c(
    telemetry: &Telemetry,
    shop: &shop::Shop,
    order: OrderRequest,
) -> Result<(), BoxError> {
    telemetry.logs.set_capacity(0);
    telemetry.logs.set_echo(true);
    println!(
        "\nshop: serving until Ctrl-C (or SIGTERM); try:\n  curl -i -H 'X-App-Trace-Id: {}' '{}'\n",
        demo::random_app_trace_id(),
        shop.order_url(order)
    );
    examples::server::shutdown_signal().await;
    println!("shop: stopping");
    Ok(())
}

/// One service alone, log lines to stdout, until Ctrl-C.
async fn run_alone(
    command: Command,
    tracing: &TracingArgs,
    zipkin_url: Option<String>,
) -> Result<(), BoxError> {
    let (service, port, app) = match &command {
        Command::Gateway { port, order_url } => {
            (Service::Gateway, *port, shop::gateway_app(order_url))
        }
        Command::Order {
            port,
            user_url,
            product_url,
        } => (
            Service::Order,
            *port,
            shop::order_app(user_url, product_url),
        ),
        Command::User { port } => (Service::User, *port, shop::user_app()),
        Command::Product { port } => (Service::Product, *port, shop::product_app()),
    };
    let telemetry = telemetry::install(TelemetryConfig {
        logs: LogCapture::stdout(),
        service_name: service.name().into(),
        sample_probability: tracing.sample_probability,
        zipkin_url,
        keep_spans: false,
        spans_file: tracing.spans_file.clone(),
    })?;
    let listener = bind(([127, 0, 0, 1], port).into(), "--port").await?;
    let handle = serve(service.name(), listener, app)?;
    println!(
        "shop: {service} listening on {} (Ctrl-C to stop)",
        handle.url()
    );
    examples::server::shutdown_signal().await;
    handle.shutdown().await?;
    telemetry.shutdown(SPANS_DELIVERY);
    Ok(())
}
