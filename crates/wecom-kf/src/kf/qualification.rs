//! `/cgi-bin/kf/get_corp_qualification`: `client.corp_qualification()`.

use wecom_kf_types::kf::qualification::{CorpQualification, GetCorpQualification};

use crate::{Client, Error};

impl Client {
    /// Whether the corp has a bound 视频号, which lifts the cap on customers served
    /// (with a verified corp; see `wecom_kf::types::kf::qualification::customer_cap`).
    pub async fn corp_qualification(&self) -> Result<CorpQualification, Error> {
        self.execute(&GetCorpQualification::default()).await
    }
}
