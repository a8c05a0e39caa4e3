//! Rename an account (e.g. rotate on-duty names), then show the result.
//!
//! `cargo run -p wecom-kf --example rotate_name -- OPEN_KFID 新名字`

mod common;

use wecom_kf::types::kf::account::UpdateAccount;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let setup = common::setup().await?;
    let accounts = setup.client.account();
    let mut args = std::env::args().skip(1);
    let open_kfid = match args.next() {
        Some(id) => id,
        None => {
            accounts
                .list(0, 1)
                .await?
                .into_iter()
                .next()
                .ok_or("no account to rename")?
                .open_kfid
        }
    };
    let name = args.next().unwrap_or_else(|| "值班客服".to_owned());
    accounts
        .update(UpdateAccount::new(&open_kfid).name(&name))
        .await?;
    let renamed = accounts
        .list(0, 100)
        .await?
        .into_iter()
        .find(|a| a.open_kfid == open_kfid);
    println!("{open_kfid} is now {:?}", renamed.map(|a| a.name));
    Ok(())
}
