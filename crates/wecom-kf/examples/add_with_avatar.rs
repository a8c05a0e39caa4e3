//! Create an account from a name and an image file: upload, then add, in one call.
//!
//! `cargo run -p wecom-kf --example add_with_avatar -- 新客服 path/to/avatar.png`

mod common;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "新客服".to_owned());
    let avatar = match args.next() {
        Some(path) => path.into(),
        None => common::avatar_file()?,
    };
    let setup = common::setup().await?;
    match setup.client.account().add_with_avatar(&name, &avatar).await {
        Ok(open_kfid) => println!("created {name}: {open_kfid}"),
        // The add may have happened: look before trying again.
        Err(err) if err.is_outcome_unknown() => {
            eprintln!("unknown outcome, check the list before retrying: {err}");
        }
        Err(err) => return Err(err.into()),
    }
    Ok(())
}
