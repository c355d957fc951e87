//! The shop's small in-memory data: users, products and their stock.
//!
//! The same records as the Java walk-through's database, kept in memory so that every answer is
//! real: an unknown id is a miss, and an order takes items out of stock.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// A customer of the shop, as the user service returns it.
///
/// ```
/// let users = examples::catalog::Users::sample();
/// let alice = users.get(1001).unwrap();
/// assert_eq!(alice.name, "alice");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The user id.
    pub id: u64,
    /// The login name.
    pub name: String,
    /// The delivery address.
    pub address: String,
}

/// A product with its current stock, as the product service returns it.
///
/// ```
/// let products = examples::catalog::Products::sample();
/// assert_eq!(products.get(1001).unwrap().id, 1001);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// The product id.
    pub id: u64,
    /// The product name.
    pub name: String,
    /// The unit price in cents.
    pub price_cents: u64,
    /// Items left in stock.
    pub stock: u64,
}

/// The user table: read-only after start.
///
/// ```
/// let users = examples::catalog::Users::sample();
/// assert!(users.get(7).is_none());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Users {
    by_id: BTreeMap<u64, User>,
}

impl Users {
    /// The sample users 1001 (`alice`), 1002 (`bob`) and 1003 (`chen`).
    ///
    /// ```
    /// assert_eq!(examples::catalog::Users::sample().len(), 3);
    /// ```
    pub fn sample() -> Users {
        let rows = [
            (1001, "alice", "1 Harbour Road, Springfield"),
            (1002, "bob", "22 Mill Lane, Shelbyville"),
            (1003, "chen", "3 Garden Street, Ogdenville"),
        ];
        Users {
            by_id: rows
                .into_iter()
                .map(|(id, name, address)| {
                    let user = User {
                        id,
                        name: name.into(),
                        address: address.into(),
                    };
                    (id, user)
                })
                .collect(),
        }
    }

    /// The user with this id.
    ///
    /// ```
    /// assert_eq!(examples::catalog::Users::sample().get(1002).unwrap().name, "bob");
    /// ```
    pub fn get(&self, id: u64) -> Option<&User> {
        self.by_id.get(&id)
    }

    /// How many users there are.
    ///
    /// ```
    /// assert!(!examples::catalog::Users::sample().is_empty());
    /// ```
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True when there is no user.
    ///
    /// ```
    /// assert!(examples::catalog::Users::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// Why an order could not take items out of stock.
///
/// ```
/// use examples::catalog::{Products, StockError};
/// let products = Products::sample();
/// assert_eq!(products.take(9, 1), Err(StockError::UnknownProduct(9)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StockError {
    /// No product has this id.
    UnknownProduct(u64),
    /// Fewer items are left than asked for.
    Insufficient {
        /// The product id.
        id: u64,
        /// Items asked for.
        wanted: u64,
        /// Items left.
        left: u64,
    },
    /// An order of zero items.
    ZeroCount,
}

impl std::fmt::Display for StockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StockError::UnknownProduct(id) => write!(f, "product {id} not found"),
            StockError::Insufficient { id, wanted, left } => {
                write!(f, "product {id}: {wanted} wanted, {left} left in stock")
            }
            StockError::ZeroCount => f.write_str("count must be at least 1"),
        }
    }
}

impl std::error::Error for StockError {}

/// The product table; stock changes under a lock (a few nanoseconds per order).
///
/// ```
/// let products = examples::catalog::Products::sample();
/// let before = products.get(1001).unwrap().stock;
/// let after = products.take(1001, 2).unwrap();
/// assert_eq!(after.stock, before - 2);
/// ```
#[derive(Debug, Default)]
pub struct Products {
    by_id: Mutex<BTreeMap<u64, Product>>,
}

/// Items in stock per sample product at start: enough for long load runs.
pub const SAMPLE_STOCK: u64 = 100_000_000;

impl Products {
    /// The sample products 1001, 1002 and 1003, each with [`SAMPLE_STOCK`] items.
    ///
    /// ```
    /// assert_eq!(examples::catalog::Products::sample().get(1003).unwrap().stock,
    ///            examples::catalog::SAMPLE_STOCK);
    /// ```
    pub fn sample() -> Products {
        let rows = [
            (1001, "mechanical keyboard", 8_900),
            (1002, "wireless mouse", 2_450),
            (1003, "27-inch monitor", 21_900),
        ];
        Products::new(rows.into_iter().map(|(id, name, price_cents)| Product {
            id,
            name: name.into(),
            price_cents,
            stock: SAMPLE_STOCK,
        }))
    }

    /// A table holding these products.
    ///
    /// ```
    /// use examples::catalog::{Product, Products};
    /// let p = Product { id: 1, name: "pen".into(), price_cents: 100, stock: 3 };
    /// assert_eq!(Products::new([p]).get(1).unwrap().stock, 3);
    /// ```
    pub fn new(products: impl IntoIterator<Item = Product>) -> Products {
        Products {
            by_id: Mutex::new(products.into_iter().map(|p| (p.id, p)).collect()),
        }
    }

    /// A copy of the product with this id.
    ///
    /// ```
    /// assert!(examples::catalog::Products::sample().get(42).is_none());
    /// ```
    pub fn get(&self, id: u64) -> Option<Product> {
        self.lock().get(&id).cloned()
    }

    /// Takes `count` items out of stock; returns the product as it is afterwards.
    ///
    /// ```
    /// use examples::catalog::{Product, Products, StockError};
    /// let p = Product { id: 1, name: "pen".into(), price_cents: 100, stock: 3 };
    /// let products = Products::new([p]);
    /// assert_eq!(products.take(1, 2).unwrap().stock, 1);
    /// assert_eq!(products.take(1, 2), Err(StockError::Insufficient { id: 1, wanted: 2, left: 1 }));
    /// ```
    pub fn take(&self, id: u64, count: u64) -> Result<Product, StockError> {
        if count == 0 {
            return Err(StockError::ZeroCount);
        }
        let mut table = self.lock();
        let product = table.get_mut(&id).ok_or(StockError::UnknownProduct(id))?;
        if product.stock < count {
            return Err(StockError::Insufficient {
                id,
                wanted: count,
                left: product.stock,
            });
        }
        product.stock -= count;
        Ok(product.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Product>> {
        // The table is never left half-updated, so a poisoned lock is still consistent.
        self.by_id.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_never_goes_below_zero() {
        let products = Products::new([Product {
            id: 5,
            name: "cup".into(),
            price_cents: 300,
            stock: 1,
        }]);
        assert_eq!(products.take(5, 0), Err(StockError::ZeroCount));
        assert_eq!(products.take(5, 1).unwrap().stock, 0);
        assert_eq!(
            products.take(5, 1),
            Err(StockError::Insufficient {
                id: 5,
                wanted: 1,
                left: 0
            })
        );
        assert_eq!(products.take(6, 1), Err(StockError::UnknownProduct(6)));
    }
}
