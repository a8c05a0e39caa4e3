//! `/cgi-bin/kf/knowledge/{add,del,mod,list}_{group,intent}` (docs/kf-api.md §4.14).

use wecom_kf_types::Empty;
use wecom_kf_types::kf::knowledge::{
    AddGroup, AddGroupResponse, AddIntent, AddIntentResponse, DeleteGroup, DeleteIntent,
    ListGroups, ListGroupsResponse, ListIntents, ListIntentsResponse, ModifyGroup, ModifyIntent,
};

use crate::api::Handle;
use crate::api::registry::Route;
use crate::rejection::Rejection;
use crate::state::{Caller, Emulator};

pub(crate) const ROUTES: &[Route] = &[
    Route::json::<AddGroup>(),
    Route::json::<DeleteGroup>(),
    Route::json::<ModifyGroup>(),
    Route::json::<ListGroups>(),
    Route::json::<AddIntent>(),
    Route::json::<DeleteIntent>(),
    Route::json::<ModifyIntent>(),
    Route::json::<ListIntents>(),
];

impl Handle for AddGroup {
    fn handle(
        emulator: &Emulator,
        _: &Caller,
        request: Self,
    ) -> Result<AddGroupResponse, Rejection> {
        let group_id = emulator.world().add_knowledge_group(&request.name)?;
        Ok(AddGroupResponse::new(group_id))
    }
}

impl Handle for DeleteGroup {
    fn handle(emulator: &Emulator, _: &Caller, request: Self) -> Result<Empty, Rejection> {
        emulator.world().delete_knowledge_group(&request.group_id)?;
        Ok(Empty {})
    }
}

impl Handle for ModifyGroup {
    fn handle(emulator: &Emulator, _: &Caller, request: Self) -> Result<Empty, Rejection> {
        emulator
            .world()
            .rename_knowledge_group(&request.group_id, &request.name)?;
        Ok(Empty {})
    }
}

impl Handle for ListGroups {
    fn handle(
        emulator: &Emulator,
        _: &Caller,
        request: Self,
    ) -> Result<ListGroupsResponse, Rejection> {
        emulator.world().list_knowledge_groups(&request)
    }

    /// The cursor, the limit and the filter are all optional: `{}` or no body at all.
    fn empty() -> Option<Self> {
        Some(ListGroups::default())
    }
}

impl Handle for AddIntent {
    fn handle(
        emulator: &Emulator,
        _: &Caller,
        request: Self,
    ) -> Result<AddIntentResponse, Rejection> {
        let intent_id = emulator.world().add_knowledge_intent(&request)?;
        Ok(AddIntentResponse::new(intent_id))
    }
}

impl Handle for DeleteIntent {
    fn handle(emulator: &Emulator, _: &Caller, request: Self) -> Result<Empty, Rejection> {
        emulator
            .world()
            .delete_knowledge_intent(&request.intent_id)?;
        Ok(Empty {})
    }
}

impl Handle for ModifyIntent {
    fn handle(emulator: &Emulator, _: &Caller, request: Self) -> Result<Empty, Rejection> {
        emulator.world().modify_knowledge_intent(&request)?;
        Ok(Empty {})
    }
}

impl Handle for ListIntents {
    fn handle(
        emulator: &Emulator,
        _: &Caller,
        request: Self,
    ) -> Result<ListIntentsResponse, Rejection> {
        emulator.world().list_knowledge_intents(&request)
    }

    fn empty() -> Option<Self> {
        Some(ListIntents::default())
    }
}
