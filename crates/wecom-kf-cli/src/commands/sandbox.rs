//! `wecom-kf sandbox …`: the built-in emulator, persisted between runs.

use clap::Subcommand;
use futures_util::TryStreamExt;
use wecom_kf::Client;
use wecom_kf::types::kf::account::UpdateAccount;

use crate::context::{sandbox_db, start_sandbox};
use crate::error::CliError;
use crate::options::Global;
use crate::output::Output;

/// Sandbox commands.
#[derive(Subcommand, Debug)]
pub enum SandboxCommand {
    /// A guided tour: create, list, update, link and delete accounts in the sandbox.
    /// Run it twice: what it created the first time is still there.
    #[command(after_help = "Example:\n  wecom-kf sandbox demo")]
    Demo,
    /// Print where the sandbox keeps its data.
    Path,
    /// Empty the sandbox.
    #[command(after_help = "Example:\n  wecom-kf sandbox reset")]
    Reset,
}

pub async fn run(command: SandboxCommand, global: &Global) -> Result<(), CliError> {
    match command {
        SandboxCommand::Path => Output::new(global.format).line(sandbox_db()?.display()),
        SandboxCommand::Reset => {
            let sandbox = start_sandbox().await?;
            sandbox.emulator().reset().map_err(|code| {
                CliError::Config(format!("cannot reset the sandbox: errcode {code}"))
            })?;
            Output::new(global.format).line(format!("sandbox emptied: {}", sandbox_db()?.display()))
        }
        SandboxCommand::Demo => demo(global).await,
    }
}

async fn demo(global: &Global) -> Result<(), CliError> {
    let sandbox = start_sandbox().await?;
    let client = Client::builder()
        .base_url(sandbox.base_url())
        .corp_id(wecom_kf_emulator::DEMO_CORP_ID)
        .secret(wecom_kf_emulator::DEMO_SECRET)
        .build()?;
    let out = Output::new(global.format);
    let accounts = client.account();
    let step = |n: u8, text: &str| out.line(format!("\n[{n}/6] {text}"));

    let before: Vec<_> = accounts.list_all().try_collect().await?;
    out.line(format!(
        "sandbox: {} (emulator at {})",
        sandbox_db()?.display(),
        sandbox.base_url()
    ))?;
    out.line(format!(
        "{} account(s) kept from earlier runs",
        before.len()
    ))?;

    step(1, "upload an avatar and create an account")?;
    let avatar = client
        .media()
        .upload(
            wecom_kf::types::media::MediaType::Image,
            wecom_kf::media::Media::bytes("avatar.png", wecom_kf_emulator::DEFAULT_AVATAR_PNG),
        )
        .await?;
    let name = format!("演示客服{}", before.len() + 1);
    let open_kfid = accounts.add(&name, &avatar.media_id).await?;
    out.line(format!("created {name}: {open_kfid}"))?;

    step(2, "list every account")?;
    super::account::print(&out, &accounts.list_all().try_collect::<Vec<_>>().await?)?;

    step(3, "rename it")?;
    let renamed = format!("{name}号");
    accounts
        .update(UpdateAccount::new(&open_kfid).name(&renamed))
        .await?;
    out.line(format!("{name} → {renamed}"))?;

    step(4, "get its contact link for a campaign scene")?;
    out.line(
        accounts
            .contact_link(&open_kfid, Some("sandbox_demo"))
            .await?,
    )?;

    step(5, "create a temporary account and delete it")?;
    let temporary = accounts.add("临时客服", &avatar.media_id).await?;
    accounts.delete(&temporary).await?;
    out.line(format!("created and deleted {temporary}"))?;

    step(6, "what persists")?;
    let after: Vec<_> = accounts.list_all().try_collect().await?;
    super::account::print(&out, &after)?;
    out.line(format!(
        "\n{} account(s) now; run `wecom-kf sandbox demo` again and they are still there.",
        after.len()
    ))?;
    out.line("Try: wecom-kf --sandbox account list --format json   |   wecom-kf sandbox reset")?;
    Ok(())
}
