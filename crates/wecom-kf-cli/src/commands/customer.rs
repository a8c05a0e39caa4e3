//! `wecom-kf customer get ID…`.

use clap::Subcommand;
use serde::Serialize;
use wecom_kf::types::kf::customer::Customer;

use crate::context::Context;
use crate::error::CliError;
use crate::output::Row;

/// Customer commands.
#[derive(Subcommand, Debug)]
pub enum CustomerCommand {
    /// Customers' profiles (any number: asked 100 at a time). Unknown ids are listed
    /// as `found: false` and make the exit code 1.
    #[command(
        after_help = "Example:\n  wecom-kf customer get wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw wmq2\n  wecom-kf customer get wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw --context --format json"
    )]
    Get {
        /// external_userid of each customer.
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
        /// Also show how each customer last entered a session (scene, scene_param).
        #[arg(long)]
        context: bool,
    },
}

/// A customer as the CLI prints it.
#[derive(Serialize)]
struct CustomerRow {
    external_userid: String,
    found: bool,
    nickname: String,
    gender: u8,
    unionid: String,
    avatar: String,
    scene: String,
    scene_param: String,
}

impl From<&Customer> for CustomerRow {
    fn from(c: &Customer) -> Self {
        let context = c.enter_session_context.clone().unwrap_or_default();
        CustomerRow {
            external_userid: c.external_userid.clone(),
            found: true,
            nickname: c.nickname.clone(),
            gender: c.gender,
            unionid: c.unionid.clone(),
            avatar: c.avatar.clone(),
            scene: context.scene,
            scene_param: context.scene_param,
        }
    }
}

impl Row for CustomerRow {
    const FIELDS: &'static [&'static str] = &[
        "external_userid",
        "found",
        "nickname",
        "gender",
        "unionid",
        "avatar",
        "scene",
        "scene_param",
    ];
    const COLUMNS: &'static [&'static str] =
        &["EXTERNAL_USERID", "NICKNAME", "GENDER", "UNIONID", "SCENE"];
    const NOUN: &'static str = "customer";

    fn cells(&self) -> Vec<String> {
        if !self.found {
            return vec![
                self.external_userid.clone(),
                "(unknown id)".into(),
                String::new(),
                String::new(),
                String::new(),
            ];
        }
        let gender = match self.gender {
            1 => "male",
            2 => "female",
            _ => "-",
        };
        let scene = if self.scene_param.is_empty() {
            self.scene.clone()
        } else {
            format!("{} ({})", self.scene, self.scene_param)
        };
        vec![
            self.external_userid.clone(),
            self.nickname.clone(),
            gender.to_owned(),
            self.unionid.clone(),
            scene,
        ]
    }
}

pub async fn run(command: CustomerCommand, ctx: &Context) -> Result<(), CliError> {
    match command {
        CustomerCommand::Get { ids, context } => {
            let api = ctx.client.customer();
            let customers = if context {
                api.get_with_context(&ids).await?
            } else {
                api.get(&ids).await?
            };
            let mut rows: Vec<CustomerRow> =
                customers.found.iter().map(CustomerRow::from).collect();
            rows.extend(customers.invalid.iter().map(|id| CustomerRow {
                external_userid: id.clone(),
                found: false,
                nickname: String::new(),
                gender: 0,
                unionid: String::new(),
                avatar: String::new(),
                scene: String::new(),
                scene_param: String::new(),
            }));
            ctx.out.rows(&rows)?;
            if customers.invalid.is_empty() {
                Ok(())
            } else {
                eprintln!(
                    "{} id(s) name no customer: {}",
                    customers.invalid.len(),
                    customers.invalid.join(", ")
                );
                Err(CliError::Partial {
                    failed: customers.invalid.len(),
                })
            }
        }
    }
}
