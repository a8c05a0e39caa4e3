//! Print the customer-facing link of every account, for one campaign scene.
//!
//! `cargo run -p wecom-kf --example contact_links -- spring_sale`

mod common;

use futures_util::TryStreamExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scene = std::env::args().nth(1);
    let setup = common::setup().await?;
    let accounts: Vec<_> = setup.client.account().list_all().try_collect().await?;
    for account in accounts {
        let link = setup
            .client
            .account()
            .contact_link(&account.open_kfid, scene.as_deref())
            .await?;
        println!("{:<16}  {link}", account.name);
    }
    Ok(())
}
