//! Print every kf account, streaming page by page.
//!
//! `cargo run -p wecom-kf --example list_accounts`

mod common;

use futures_util::TryStreamExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let setup = common::setup().await?;
    let mut accounts = std::pin::pin!(setup.client.account().list_all());
    while let Some(account) = accounts.try_next().await? {
        let managed = if account.manage_privilege == Some(true) {
            "managed"
        } else {
            "read-only"
        };
        println!("{}  {:<16}  {managed}", account.open_kfid, account.name);
    }
    Ok(())
}
