//! The corp directory: members and departments, set through the control plane
//! (`POST /__emulator/members`, `POST /__emulator/departments`).

use wecom_kf_types::ErrCode;

use super::World;
use crate::rejection::Rejection;
use crate::store::MemberRow;

impl World<'_> {
    /// Create or replace a member.
    pub(crate) fn put_member(&mut self, userid: &str, member: MemberRow) -> Result<(), Rejection> {
        if userid.is_empty() || userid.len() > wecom_kf_types::limits::USERID_MAX_BYTES {
            return Err(Rejection::with(
                ErrCode::INVALID_PARAMETER,
                format!("userid must be 1 to 64 bytes, got {} bytes", userid.len()),
            ));
        }
        Ok(self.store.put_member(userid, member)?)
    }

    /// Create or rename a department.
    pub(crate) fn put_department(
        &mut self,
        department_id: u32,
        name: &str,
    ) -> Result<(), Rejection> {
        Ok(self.store.put_department(department_id, name)?)
    }
}
