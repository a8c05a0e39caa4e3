//! Shared set-up for the examples: real credentials from the environment, or an
//! embedded emulator when there are none, so every example runs offline.

use wecom_kf::Client;

/// The client, and the emulator it talks to when no credentials are set.
pub struct Setup {
    pub client: Client,
    /// Kept alive for the run; some examples also play the other side through it.
    #[allow(dead_code)]
    pub emulator: Option<wecom_kf_emulator::Running>,
}

/// `WECOM_CORP_ID` + `WECOM_KF_SECRET` (+ optional `WECOM_KF_BASE_URL`), or an
/// in-process emulator seeded with a few accounts.
pub async fn setup() -> Result<Setup, Box<dyn std::error::Error>> {
    if let (Ok(corp_id), Ok(secret)) = (
        std::env::var("WECOM_CORP_ID"),
        std::env::var("WECOM_KF_SECRET"),
    ) {
        let mut builder = Client::builder().corp_id(corp_id).secret(secret);
        if let Ok(base_url) = std::env::var("WECOM_KF_BASE_URL") {
            builder = builder.base_url(base_url);
        }
        return Ok(Setup {
            client: builder.build()?,
            emulator: None,
        });
    }
    eprintln!("(no WECOM_CORP_ID/WECOM_KF_SECRET: using an embedded emulator)");
    let emulator = wecom_kf_emulator::spawn(wecom_kf_emulator::Config::default()).await?;
    let client = Client::builder()
        .base_url(emulator.base_url())
        .corp_id(wecom_kf_emulator::DEMO_CORP_ID)
        .secret(wecom_kf_emulator::DEMO_SECRET)
        .build()?;
    let avatar = avatar_file()?;
    for name in ["售前咨询", "售后服务", "VIP 专线"] {
        client.account().add_with_avatar(name, &avatar).await?;
    }
    Ok(Setup {
        client,
        emulator: Some(emulator),
    })
}

/// A small PNG on disk to use as an avatar.
pub fn avatar_file() -> std::io::Result<std::path::PathBuf> {
    let path = std::env::temp_dir().join("wecom-kf-example-avatar.png");
    std::fs::write(&path, wecom_kf_emulator::DEFAULT_AVATAR_PNG)?;
    Ok(path)
}
