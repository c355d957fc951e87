//! The shop's behaviour through the gateway, real servers on 127.0.0.1 (both builds).

use examples::catalog::SAMPLE_STOCK;
use examples::services::order::{Order, OrderRequest};
use examples::services::ApiError;
use examples::shop::{self, ShopConfig};

async fn get(url: &str) -> (u16, String) {
    let r = reqwest::get(url).await.expect("the gateway answers");
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

fn order(user_id: u64, product_id: u64, count: u64) -> OrderRequest {
    OrderRequest {
        user_id,
        product_id,
        count,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_go_through_the_gateway_and_take_stock() {
    let shop = shop::start(&ShopConfig::ephemeral()).await.unwrap();

    let (status, body) = get(&shop.order_url(order(1001, 1002, 2))).await;
    assert_eq!(status, 200, "{body}");
    let first: Order = serde_json::from_str(&body).unwrap();
    assert_eq!(first.user_name, "alice");
    assert_eq!(first.product_name, "wireless mouse");
    assert_eq!(first.total_cents, 2 * 2_450);
    assert_eq!(first.stock_left, SAMPLE_STOCK - 2);

    let (status, body) = get(&shop.order_url(order(1002, 1002, 3))).await;
    assert_eq!(status, 200, "{body}");
    let second: Order = serde_json::from_str(&body).unwrap();
    assert_eq!(second.user_name, "bob");
    assert_eq!(second.order_id, first.order_id + 1);
    assert_eq!(second.stock_left, SAMPLE_STOCK - 5);

    shop.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_propagate_with_their_status_and_message() {
    let shop = shop::start(&ShopConfig::ephemeral()).await.unwrap();
    let cases = [
        (order(7, 1001, 1), 404, "user 7 not found"),
        (order(1001, 9, 1), 404, "product 9 not found"),
        (order(1001, 1001, 0), 400, "count must be at least 1"),
        (
            order(1001, 1003, SAMPLE_STOCK + 1),
            409,
            "product 1003: 100000001 wanted, 100000000 left",
        ),
    ];
    for (req, status, message) in cases {
        let (got, body) = get(&shop.order_url(req)).await;
        assert_eq!(got, status, "{req:?}: {body}");
        let err: ApiError = serde_json::from_str(&body).unwrap();
        assert_eq!(err.error, message);
    }
    // Missing query parameters: the order service refuses the request, the gateway passes it on.
    let (got, _) = get(&format!(
        "{}/server-order/order/submit_order?userId=1",
        shop.gateway.url()
    ))
    .await;
    assert_eq!(got, 400);
    // Not under the gateway's route.
    let (got, _) = get(&format!("{}/order/submit_order", shop.gateway.url())).await;
    assert_eq!(got, 404);
    shop.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_answers_502_when_the_order_service_is_down() {
    // A port that was free a moment ago: nothing listens there now.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let listener = examples::server::bind("127.0.0.1:0".parse().unwrap(), "--port")
        .await
        .unwrap();
    let gateway = examples::server::serve(
        "gateway",
        listener,
        shop::gateway_app(&format!("http://{closed}")),
    )
    .unwrap();
    let url = shop::submit_order_url(&gateway.url(), order(1001, 1001, 1));
    let (status, body) = get(&url).await;
    assert_eq!(status, 502, "{body}");
    let err: ApiError = serde_json::from_str(&body).unwrap();
    assert!(err.error.contains("failed"), "{}", err.error);
    gateway.shutdown().await.unwrap();
}
