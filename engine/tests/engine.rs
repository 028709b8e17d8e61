//! Engine tests against a fake in-memory provider: ordering, replacement order, failure
//! mid-apply, interruption and recovery. No AWS, no emulator: these pin the engine's rules,
//! through the same session every command runs.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use engine::{
    ApplyOptions, ApplyOutcome, Cloud, Event, EventSink, NoEvents, OpenOptions, PlanRequest,
    Session,
};
use planner::{make_plan, Action, Plan, PlanInput, StepKind};
use providers::{
    CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest, Registry,
    Resource, UpdateRequest,
};
use stacks::{Catalog, Kind, Map, NameRule, Prop, TypeSchema, Value};
use state::{Backend, Intent, LocalBackend};
use tokio::sync::watch;

/// The fake type: `name` and `forced` replace, `snapshot` replaces new object first (its
/// schema says `create_before_destroy`), `value` and `note` update in place; `note` is
/// cleared when taken out of the stack, `value` is then no longer managed. Attribute `revision`
/// is `value` as applied, so a change of `value` changes it (as publishing changes a Lambda
/// function's `version`).
fn schema() -> TypeSchema {
    TypeSchema {
        type_name: "test.thing",
        props: vec![
            Prop::new("name", Kind::String).force_new(),
            Prop::new("forced", Kind::String).force_new(),
            Prop::new("snapshot", Kind::String).create_before_destroy(),
            Prop::new("value", Kind::String).updates_attrs(&["revision"]),
            Prop::new("note", Kind::String).resettable(),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["arn", "id", "revision"],
        taggable: false,
        check: None,
        name_rule: Some(NameRule {
            prop: "name",
            max_len: 64,
            suffix_when: None,
        }),
    }
}

#[derive(Default)]
struct World {
    next: u64,
    /// id -> properties
    live: BTreeMap<String, Map>,
    /// "create a", "delete b (id)", in call order.
    log: Vec<String>,
    reads: usize,
    read_calls: usize,
    fail_create: Vec<String>,
    /// Addresses whose create makes the object and then fails (a refused follow-up call).
    half_create: Vec<String>,
}

#[derive(Clone)]
struct Fake {
    schema: TypeSchema,
    world: Arc<Mutex<World>>,
    delay: Duration,
}

impl Fake {
    fn resource(id: &str, props: &Map) -> Resource {
        let mut attributes = Map::new();
        attributes.insert("arn".into(), Value::str(format!("arn:test:{id}")));
        attributes.insert("id".into(), Value::str(id));
        if let Some(value) = props.get("value") {
            attributes.insert("revision".into(), value.clone());
        }
        Resource {
            id: id.to_string(),
            properties: props.clone(),
            attributes,
        }
    }
}

fn plain(props: &Map) -> Map {
    props
        .iter()
        .map(|(k, v)| (k.clone(), v.unmarked()))
        .collect()
}

#[async_trait]
impl Provider for Fake {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource, ProviderError> {
        tokio::time::sleep(self.delay).await;
        let mut w = self.world.lock().unwrap();
        if w.fail_create.contains(&req.address) {
            w.log.push(format!("create {} failed", req.address));
            return Err(ProviderError::Api {
                code: "Boom".into(),
                message: "the fake refused".into(),
            });
        }
        w.next += 1;
        let id = format!("id-{}", w.next);
        w.live.insert(id.clone(), plain(&req.properties));
        if w.half_create.contains(&req.address) {
            w.log
                .push(format!("create {} made {id}, then failed", req.address));
            let refused = ProviderError::Api {
                code: "Refused".into(),
                message: "the follow-up call was refused".into(),
            };
            return Err(refused.made(id));
        }
        w.log.push(format!("create {}", req.address));
        Ok(Fake::resource(&id, &plain(&req.properties)))
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>, ProviderError> {
        let mut w = self.world.lock().unwrap();
        w.reads += 1;
        w.read_calls += 1;
        Ok(w.live.get(&req.id).map(|p| Fake::resource(&req.id, p)))
    }

    async fn read_many(
        &self,
        reqs: Vec<ReadRequest>,
    ) -> Vec<Result<Option<Resource>, ProviderError>> {
        // One call for the whole group, as an EC2 Describe* with many ids would be.
        let mut w = self.world.lock().unwrap();
        w.read_calls += 1;
        w.reads += reqs.len();
        reqs.iter()
            .map(|r| Ok(w.live.get(&r.id).map(|p| Fake::resource(&r.id, p))))
            .collect()
    }

    async fn update(&self, req: UpdateRequest) -> Result<Resource, ProviderError> {
        tokio::time::sleep(self.delay).await;
        let mut w = self.world.lock().unwrap();
        w.live.insert(req.id.clone(), plain(&req.properties));
        w.log.push(format!("update {}", req.address));
        Ok(Fake::resource(&req.id, &plain(&req.properties)))
    }

    async fn delete(&self, req: DeleteRequest) -> Result<(), ProviderError> {
        tokio::time::sleep(self.delay).await;
        let mut w = self.world.lock().unwrap();
        w.live.remove(&req.id);
        w.log.push(format!("delete {}", req.address));
        Ok(())
    }

    async fn find(&self, req: FindRequest) -> Result<Option<Resource>, ProviderError> {
        let w = self.world.lock().unwrap();
        let name = req.properties.get("name").cloned();
        Ok(w.live
            .iter()
            .find(|(_, p)| p.get("name").cloned() == name)
            .map(|(id, p)| Fake::resource(id, p)))
    }
}

/// The fake cloud: the fake provider, in a fixed region and account.
struct FakeCloud {
    registry: Registry,
}

#[async_trait]
impl Cloud for FakeCloud {
    fn registry(&self) -> &Registry {
        &self.registry
    }

    fn region(&self) -> String {
        "test-1".into()
    }

    async fn account_id(&self) -> Result<String, ProviderError> {
        Ok("123456789012".into())
    }
}

/// Every event a session reported.
#[derive(Default)]
struct Recorded(Mutex<Vec<Event>>);

impl EventSink for Recorded {
    fn event(&self, event: Event) {
        self.0.lock().unwrap().push(event);
    }
}

struct Harness {
    dir: tempfile::TempDir,
    world: Arc<Mutex<World>>,
    cloud: Arc<FakeCloud>,
    catalog: Catalog,
}

impl Harness {
    fn new() -> Harness {
        Harness::with_delay(Duration::from_millis(5))
    }

    fn with_delay(delay: Duration) -> Harness {
        let world = Arc::new(Mutex::new(World::default()));
        let fake = Fake {
            schema: schema(),
            world: world.clone(),
            delay,
        };
        let mut registry = Registry::new();
        registry.insert(Arc::new(fake));
        let catalog = registry.catalog();
        Harness {
            dir: tempfile::tempdir().unwrap(),
            world,
            cloud: Arc::new(FakeCloud { registry }),
            catalog,
        }
    }

    fn backend(&self) -> LocalBackend {
        LocalBackend::new(self.dir.path().join(".strata"), "demo")
    }

    fn stack(&self, yaml: &str) -> stacks::Stack {
        let path = self.dir.path().join("stack.yaml");
        stacks::load_str(&path, yaml, &stacks::LoadOptions::default(), &self.catalog)
            .unwrap_or_else(|d| panic!("{}", d.render(false)))
    }

    async fn session(&self, yaml: &str, events: Arc<dyn EventSink>) -> Session {
        Session::open(
            self.stack(yaml),
            Arc::new(self.backend()),
            self.cloud.clone(),
            &OpenOptions::new("apply", Duration::ZERO),
            events,
        )
        .await
        .unwrap()
    }

    /// Plans against the refreshed state, as `strata plan` does.
    async fn plan(&self, yaml: &str, destroy: bool) -> Plan {
        let session = self.session(yaml, Arc::new(NoEvents)).await;
        let plan = session
            .plan(&PlanRequest {
                refresh: true,
                destroy,
                targets: vec![],
            })
            .await
            .unwrap();
        session.finish_plan(&plan, None).unwrap();
        plan
    }

    /// Applies `plan` (made for `yaml`) through a new session.
    async fn apply_plan_of(&self, yaml: &str, plan: &Plan) -> ApplyOutcome {
        let session = self.session(yaml, Arc::new(NoEvents)).await;
        let (_tx, rx) = watch::channel(false);
        session
            .apply(plan.clone(), &ApplyOptions::default(), Some(rx))
            .await
            .unwrap()
            .outcome
    }

    /// Applies `plan` through a new session (the stack a session holds plays no part in
    /// applying a plan).
    async fn apply_plan(&self, plan: &Plan) -> ApplyOutcome {
        self.apply_plan_of("stack: demo\n", plan).await
    }

    async fn apply(&self, yaml: &str) -> ApplyOutcome {
        let plan = self.plan(yaml, false).await;
        self.apply_plan_of(yaml, &plan).await
    }

    fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut self.world.lock().unwrap().log)
    }
}

fn actions(plan: &Plan) -> Vec<(String, Action)> {
    plan.changes
        .iter()
        .map(|c| (c.address.clone(), c.action))
        .collect()
}

const CHAIN: &str = "
stack: demo
resources:
  a:
    type: test.thing
    properties: { value: one }
  b:
    type: test.thing
    properties: { forced: '${a.arn}' }
  c:
    type: test.thing
    properties: { forced: '${b.arn}' }
";

#[tokio::test]
async fn creates_follow_dependencies_and_destroy_goes_in_reverse() {
    let h = Harness::new();
    let outcome = h.apply(CHAIN).await;
    assert!(outcome.succeeded(), "{:?}", outcome.errors);
    assert_eq!(h.take_log(), ["create a", "create b", "create c"]);

    let plan = h.plan(CHAIN, true).await;
    assert_eq!(plan.summary().destroy, 3);
    let outcome = h.apply_plan(&plan).await;
    assert!(outcome.succeeded(), "{:?}", outcome.errors);
    assert_eq!(h.take_log(), ["delete c", "delete b", "delete a"]);
    assert!(h.world.lock().unwrap().live.is_empty());
    assert!(h.backend().load().unwrap().state.resources.is_empty());
}

#[tokio::test]
async fn a_second_plan_after_apply_has_no_changes() {
    let h = Harness::new();
    h.apply(CHAIN).await;
    let plan = h.plan(CHAIN, false).await;
    assert!(!plan.has_changes(), "{:?}", actions(&plan));
}

#[tokio::test]
async fn replacing_the_head_of_a_chain_replaces_what_references_it_destroying_dependants_first() {
    let h = Harness::new();
    h.apply(CHAIN).await;
    h.take_log();
    let changed = CHAIN.replace(
        "properties: { value: one }",
        "properties: { value: one, name: renamed }",
    );
    let plan = h.plan(&changed, false).await;
    assert_eq!(
        actions(&plan),
        [
            ("a".to_string(), Action::DeleteThenCreate),
            ("b".to_string(), Action::DeleteThenCreate),
            ("c".to_string(), Action::DeleteThenCreate)
        ]
    );
    assert_eq!(plan.change("a").unwrap().replace_because, ["name"]);
    // b's `forced` references a.arn, unknown until a is created again.
    assert_eq!(
        plan.change("b").unwrap().after.as_ref().unwrap()["forced"],
        Value::Unknown
    );
    let outcome = h.apply_plan(&plan).await;
    assert!(outcome.succeeded(), "{:?}", outcome.errors);
    assert_eq!(
        h.take_log(),
        ["delete c", "delete b", "delete a", "create a", "create b", "create c"]
    );
    assert_eq!(h.world.lock().unwrap().live.len(), 3);
    assert!(!h.plan(&changed, false).await.has_changes());
}

#[tokio::test]
async fn replacing_with_create_before_destroy_creates_first_and_deletes_old_objects_last() {
    let h = Harness::new();
    let cbd = CHAIN.replace(
        "    type: test.thing\n    properties: { forced: '${b.arn}' }",
        "    type: test.thing\n    properties: { forced: '${b.arn}' }\n    lifecycle: { create_before_destroy: true }",
    );
    h.apply(&cbd).await;
    h.take_log();
    let changed = cbd.replace(
        "properties: { value: one }",
        "properties: { value: one, name: renamed }",
    );
    let plan = h.plan(&changed, false).await;
    // c asked for create_before_destroy; it propagates to what c depends on.
    assert!(
        plan.changes.iter().all(|c| c.create_before_destroy),
        "{:?}",
        plan.changes
    );
    let outcome = h.apply_plan(&plan).await;
    assert!(outcome.succeeded(), "{:?}", outcome.errors);
    assert_eq!(
        h.take_log(),
        ["create a", "create b", "create c", "delete c", "delete b", "delete a"]
    );
    let state = h.backend().load().unwrap().state;
    assert_eq!(
        state.resources.len(),
        3,
        "no deposed object is left: {:?}",
        state.resources.keys()
    );
    assert!(!h.plan(&changed, false).await.has_changes());
}

/// A property whose schema says `create_before_destroy` replaces new object first with no
/// `lifecycle` in the stack, and what referenced the old object is moved to the new one before
/// the old one goes (an API Gateway stage and the deployment it serves).
#[tokio::test]
async fn a_schema_create_before_destroy_property_replaces_new_first_and_moves_dependants_between() {
    let h = Harness::new();
    let stack = |snapshot: &str| {
        format!(
            "
stack: demo
resources:
  snap:
    type: test.thing
    properties: {{ snapshot: {snapshot} }}
  user:
    type: test.thing
    properties: {{ value: '${{snap.id}}' }}
"
        )
    };
    let outcome = h.apply(&stack("one")).await;
    assert!(outcome.succeeded(), "{:?}", outcome.errors);
    h.take_log();
    let plan = h.plan(&stack("two"), false).await;
    let snap = plan.changes.iter().find(|c| c.address == "snap").unwrap();
    assert_eq!(snap.action, Action::CreateThenDelete, "{snap:?}");
    let outcome = h.apply_plan(&plan).await;
    assert!(outcome.succeeded(), "{:?}", outcome.errors);
    assert_eq!(h.take_log(), ["create snap", "update user", "delete snap"]);
    assert!(!h.plan(&stack("two"), false).await.has_changes());
}

#[tokio::test]
async fn an_in_place_update_keeps_the_id_and_does_not_touch_dependants() {
    let h = Harness::new();
    h.apply(CHAIN).await;
    let before = h.backend().load().unwrap().state.resources["a"].id.clone();
    h.take_log();
    let changed = CHAIN.replace("value: one", "value: two");
    let plan = h.plan(&changed, false).await;
    assert_eq!(plan.summary().change, 1);
    assert_eq!(plan.summary().replace, 0);
    h.apply_plan(&plan).await;
    assert_eq!(h.take_log(), ["update a"]);
    assert_eq!(h.backend().load().unwrap().state.resources["a"].id, before);
}

#[tokio::test]
async fn an_update_that_changes_an_attribute_updates_what_references_it_in_the_same_apply() {
    let stack = |value: &str| {
        format!(
            "
stack: demo
resources:
  a:
    type: test.thing
    properties: {{ value: {value}, note: kept }}
  b:
    type: test.thing
    properties: {{ value: '${{a.revision}}' }}
  c:
    type: test.thing
    properties: {{ value: '${{a.arn}}' }}
"
        )
    };
    let h = Harness::new();
    h.apply(&stack("one")).await;
    h.take_log();
    let plan = h.plan(&stack("two"), false).await;
    let b = plan.changes.iter().find(|c| c.address == "b").unwrap();
    assert_eq!(b.action, Action::Update);
    assert_eq!(b.after.as_ref().unwrap()["value"], Value::Unknown);
    // What the update leaves alone stays known: `c` has nothing to do.
    let c = plan.changes.iter().find(|c| c.address == "c").unwrap();
    assert_eq!(c.action, Action::NoOp);
    h.apply_plan_of(&stack("two"), &plan).await;
    assert_eq!(h.take_log(), ["update a", "update b"]);
    let state = h.backend().load().unwrap().state;
    assert_eq!(state.resources["b"].properties["value"], Value::str("two"));
    assert!(!h.plan(&stack("two"), false).await.has_changes());
}

#[tokio::test]
async fn a_failure_mid_apply_starts_nothing_new_records_what_finished_and_reports_the_error() {
    let h = Harness::new();
    h.world.lock().unwrap().fail_create.push("b".into());
    let outcome = h.apply(CHAIN).await;
    assert!(!outcome.succeeded());
    assert_eq!(outcome.errors.len(), 1);
    assert!(
        outcome.errors[0]
            .message
            .contains("creating test.thing `b`"),
        "{}",
        outcome.errors[0].message
    );
    assert!(outcome.errors[0].message.contains("Boom: the fake refused"));
    assert_eq!(h.take_log(), ["create a", "create b failed"]);
    let state = h.backend().load().unwrap().state;
    assert_eq!(state.resources.keys().collect::<Vec<_>>(), ["a"]);

    // The next run finishes the job without touching `a`.
    h.world.lock().unwrap().fail_create.clear();
    let plan = h.plan(CHAIN, false).await;
    assert_eq!(plan.change("a").unwrap().action, Action::NoOp);
    assert!(h.apply_plan(&plan).await.succeeded());
    assert_eq!(h.take_log(), ["create b", "create c"]);
}

#[tokio::test]
async fn an_interrupted_apply_stops_starting_steps_and_keeps_what_it_created() {
    let h = Harness::with_delay(Duration::from_millis(150));
    let plan = h.plan(CHAIN, false).await;
    let events = Arc::new(Recorded::default());
    let session = h.session(CHAIN, events.clone()).await;
    let (tx, rx) = watch::channel(false);
    let task = tokio::spawn(async move {
        session
            .apply(plan, &ApplyOptions::default(), Some(rx))
            .await
            .unwrap()
    });
    // Ctrl-C while `a` is being created.
    tokio::time::sleep(Duration::from_millis(50)).await;
    tx.send(true).unwrap();
    let applied = task.await.unwrap();
    assert!(applied.outcome.interrupted);
    assert_eq!(applied.summary.status, engine::Status::Interrupted);
    assert_eq!(
        applied.outcome.created, 1,
        "the running create finished and was counted"
    );
    assert_eq!(h.take_log(), ["create a"]);
    assert_eq!(
        h.backend()
            .load()
            .unwrap()
            .state
            .resources
            .keys()
            .collect::<Vec<_>>(),
        ["a"]
    );
    let events = events.0.lock().unwrap();
    assert!(events.iter().any(|e| matches!(e, Event::Interrupted)));
    assert!(matches!(events.last(), Some(Event::Summary(_))));
}

#[tokio::test]
async fn a_crash_between_create_and_record_is_adopted_on_the_next_run_never_duplicated() {
    let h = Harness::new();
    let stack = h.stack(CHAIN);
    // Simulate: the intent is recorded, the create call succeeds, the process dies before
    // the state write.
    {
        let backend = h.backend();
        let lock = backend.lock("apply", Duration::ZERO).unwrap();
        let mut recorder = backend.recorder(&lock, backend.load().unwrap()).unwrap();
        let name = match &stack.resources["a"].properties["name"] {
            stacks::Expr::Value { value } => value.clone(),
            other => panic!("name should be known: {other:?}"),
        };
        let mut props = Map::new();
        props.insert("name".into(), name);
        props.insert("value".into(), Value::str("one"));
        recorder
            .intent(Intent::new("a", "test.thing", props.clone()))
            .unwrap();
        let fake = h.cloud.registry.get("test.thing").unwrap().clone();
        fake.create(CreateRequest {
            address: "a".into(),
            stack: "demo".into(),
            properties: props,
        })
        .await
        .unwrap();
        // No finish, no compaction, the lock left behind: a crash.
        std::mem::forget(recorder);
        std::mem::forget(lock);
    }
    let backend = h.backend();
    backend.force_unlock(&read_lock_id(h.dir.path())).unwrap();
    assert_eq!(backend.load().unwrap().pending_intents.len(), 1);
    // Opening a session settles it: found by its name and adopted.
    let events = Arc::new(Recorded::default());
    h.session(CHAIN, events.clone()).await.close().unwrap();
    assert!(
        matches!(&events.0.lock().unwrap()[..], [Event::Adopted { address }] if address == "a"),
        "one adoption of `a`"
    );
    assert!(h.backend().load().unwrap().pending_intents.is_empty());
    h.take_log();

    let plan = h.plan(CHAIN, false).await;
    assert_eq!(
        plan.change("a").unwrap().action,
        Action::NoOp,
        "{:?}",
        plan.change("a")
    );
    assert!(h.apply_plan(&plan).await.succeeded());
    assert_eq!(h.take_log(), ["create b", "create c"]);
    assert_eq!(h.world.lock().unwrap().live.len(), 3, "never a duplicate");
}

fn read_lock_id(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join(".strata").join("demo.lock")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_resource_deleted_outside_strata_is_planned_for_creation_again() {
    let h = Harness::new();
    h.apply(CHAIN).await;
    let id = h.backend().load().unwrap().state.resources["c"].id.clone();
    h.world.lock().unwrap().live.remove(&id);
    let plan = h.plan(CHAIN, false).await;
    let c = plan.change("c").unwrap();
    assert_eq!(c.action, Action::Create);
    assert!(c.gone);
    assert_eq!(plan.summary().add, 1);
}

#[tokio::test]
async fn removing_a_resource_and_the_reference_to_it_updates_the_referrer_before_the_delete() {
    let h = Harness::new();
    let yaml = "
stack: demo
resources:
  a:
    type: test.thing
    properties: { value: one }
  b:
    type: test.thing
    properties: { value: '${a.arn}' }
";
    h.apply(yaml).await;
    h.take_log();
    let without_a = "
stack: demo
resources:
  b:
    type: test.thing
    properties: { value: standalone }
";
    let plan = h.plan(without_a, false).await;
    assert_eq!(
        actions(&plan),
        [
            ("b".to_string(), Action::Update),
            ("a".to_string(), Action::Delete)
        ]
    );
    assert!(h.apply_plan(&plan).await.succeeded());
    assert_eq!(h.take_log(), ["update b", "delete a"]);
}

#[tokio::test]
async fn a_no_op_plan_reads_each_type_once_however_many_resources_it_has() {
    let h = Harness::new();
    let mut yaml = String::from("stack: demo\nresources:\n");
    for i in 0..50 {
        yaml.push_str(&format!(
            "  r{i}:\n    type: test.thing\n    properties: {{ value: v{i} }}\n"
        ));
    }
    h.apply(&yaml).await;
    {
        let mut w = h.world.lock().unwrap();
        w.read_calls = 0;
        w.reads = 0;
    }
    let plan = h.plan(&yaml, false).await;
    assert!(!plan.has_changes());
    let w = h.world.lock().unwrap();
    assert_eq!(w.reads, 50);
    assert_eq!(w.read_calls, 1, "one batched read call for the one type");
}

#[tokio::test]
async fn prevent_destroy_makes_a_replacing_plan_an_error() {
    let h = Harness::new();
    let yaml = "
stack: demo
resources:
  a:
    type: test.thing
    properties: { value: one }
    lifecycle: { prevent_destroy: true }
";
    h.apply(yaml).await;
    let stack = h.stack(&yaml.replace("value: one", "value: one, name: other"));
    let loaded = h.backend().load().unwrap();
    let err = make_plan(PlanInput {
        stack: &stack,
        state: &loaded.state,
        refreshed: None,
        catalog: &h.catalog,
        builtins: BTreeMap::new(),
        destroy: false,
        targets: vec![],
    })
    .unwrap_err();
    assert!(err.to_string().contains("prevent_destroy"), "{err}");
}

#[tokio::test]
async fn ignore_changes_keeps_a_changed_property_out_of_the_plan() {
    let h = Harness::new();
    let yaml = "
stack: demo
resources:
  a:
    type: test.thing
    properties: { value: one }
    lifecycle: { ignore_changes: [value] }
";
    h.apply(yaml).await;
    let plan = h
        .plan(&yaml.replace("value: one", "value: two"), false)
        .await;
    assert!(!plan.has_changes(), "{:?}", actions(&plan));
}

#[tokio::test]
async fn a_resettable_property_taken_out_of_the_stack_is_cleared_and_others_are_let_go() {
    let h = Harness::new();
    let full = "
stack: demo
resources:
  a:
    type: test.thing
    properties: { value: one, note: hello }
";
    h.apply(full).await;
    let id = h.backend().load().unwrap().state.resources["a"].id.clone();
    h.take_log();

    let bare = "
stack: demo
resources:
  a:
    type: test.thing
";
    let plan = h.plan(bare, false).await;
    assert_eq!(actions(&plan), [("a".to_string(), Action::Update)]);
    assert_eq!(plan.changes[0].changed, ["note"], "only the resettable one");
    h.apply_plan(&plan).await;
    assert_eq!(h.take_log(), ["update a"]);
    let live = h.world.lock().unwrap().live[&id].clone();
    assert!(!live.contains_key("note"), "{live:?}");
    assert!(!h.plan(bare, false).await.has_changes());

    // Kept out of the plan by ignore_changes.
    let h = Harness::new();
    h.apply(&full.replace(
        "note: hello }",
        "note: hello }\n    lifecycle: { ignore_changes: [note] }",
    ))
    .await;
    let plan = h
        .plan(
            &format!("{bare}    lifecycle: {{ ignore_changes: [note] }}\n"),
            false,
        )
        .await;
    assert!(!plan.has_changes(), "{:?}", actions(&plan));
}

const THREE: &str = "
stack: demo
resources:
  x:
    type: test.thing
    properties: { value: one }
  y:
    type: test.thing
    properties: { value: two }
  z:
    type: test.thing
    properties: { value: three }
";

#[tokio::test]
async fn the_executor_follows_the_steps_edges_only_even_when_edited_into_another_order() {
    let h = Harness::new();
    let mut plan = h.plan(THREE, false).await;
    // Independent: no step waits for another.
    assert!(plan.steps.iter().all(|s| s.waits_for.is_empty()));
    let at = |plan: &Plan, address: &str| {
        plan.steps
            .iter()
            .position(|s| s.address == address)
            .unwrap()
    };
    // Edited: z first, then y, then x.
    let (x, y, z) = (at(&plan, "x"), at(&plan, "y"), at(&plan, "z"));
    plan.steps[y].waits_for = vec![z];
    plan.steps[x].waits_for = vec![y];
    let outcome = h.apply_plan(&plan).await;
    assert!(outcome.succeeded(), "{:?}", outcome.errors);
    assert_eq!(h.take_log(), ["create z", "create y", "create x"]);
}

#[tokio::test]
async fn a_replacement_is_two_steps_whose_order_the_planner_writes_down() {
    let h = Harness::new();
    h.apply(CHAIN).await;
    let changed = CHAIN.replace(
        "properties: { value: one }",
        "properties: { value: one, name: renamed }",
    );
    let plan = h.plan(&changed, false).await;
    assert_eq!(plan.change("a").unwrap().action, Action::DeleteThenCreate);
    let kinds: Vec<(String, StepKind)> = plan
        .steps
        .iter()
        .filter(|s| s.address == "a")
        .map(|s| (s.address.clone(), s.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("a".to_string(), StepKind::DeleteReplaced),
            ("a".to_string(), StepKind::CreateReplacement)
        ]
    );
    let delete = plan
        .steps
        .iter()
        .position(|s| s.address == "a" && s.kind == StepKind::DeleteReplaced)
        .unwrap();
    let create = plan
        .steps
        .iter()
        .find(|s| s.address == "a" && s.kind == StepKind::CreateReplacement)
        .unwrap();
    assert!(create.waits_for.contains(&delete), "{:?}", plan.steps);
}

#[tokio::test]
async fn a_failed_step_reports_aws_error_code_in_its_event() {
    let h = Harness::new();
    h.world.lock().unwrap().fail_create.push("a".into());
    let plan = h.plan(CHAIN, false).await;
    let events = Arc::new(Recorded::default());
    let session = h.session(CHAIN, events.clone()).await;
    let (_tx, rx) = watch::channel(false);
    let applied = session
        .apply(plan, &ApplyOptions::default(), Some(rx))
        .await
        .unwrap();
    assert_eq!(applied.outcome.errors[0].code.as_deref(), Some("Boom"));
    let events = events.0.lock().unwrap();
    let failed = events
        .iter()
        .find_map(|e| match e {
            Event::Failed { code, .. } => Some(code.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(failed.as_deref(), Some("Boom"));
    let json = serde_json::to_value(
        events
            .iter()
            .find(|e| matches!(e, Event::Failed { .. }))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(json["type"], "failed");
    assert_eq!(json["code"], "Boom");
    assert_eq!(json["operation"], "create");
}

#[tokio::test]
async fn a_create_that_made_its_object_and_then_failed_is_recorded_tainted_and_replaced_next_time()
{
    let h = Harness::new();
    h.world.lock().unwrap().half_create.push("b".into());
    let outcome = h.apply(CHAIN).await;
    assert!(!outcome.succeeded());
    let message = &outcome.errors[0].message;
    assert!(
        message.contains("Refused: the follow-up call was refused"),
        "{message}"
    );
    assert!(
        message.contains("id-2 was created and is recorded as tainted"),
        "{message}"
    );
    assert_eq!(outcome.errors[0].code.as_deref(), Some("Refused"));
    assert_eq!(
        h.take_log(),
        ["create a", "create b made id-2, then failed"]
    );
    // Recorded, so never orphaned: the state holds it, tainted.
    let state = h.backend().load().unwrap().state;
    assert_eq!(state.resources["b"].id, "id-2");
    assert!(state.resources["b"].tainted);
    assert!(!state.resources["a"].tainted);

    // The next plan replaces it, whatever its properties say, and says why.
    h.world.lock().unwrap().half_create.clear();
    let plan = h.plan(CHAIN, false).await;
    let b = plan.change("b").unwrap();
    assert_eq!(b.action, Action::DeleteThenCreate);
    assert!(b.tainted);
    assert!(
        planner::render::render_plan(&plan, planner::render::Style { color: false })
            .contains("-/+ b (test.thing) is tainted, so must be replaced"),
        "{}",
        planner::render::render_plan(&plan, planner::render::Style { color: false })
    );
    assert_eq!(plan.change("a").unwrap().action, Action::NoOp);
    assert!(h.apply_plan(&plan).await.succeeded());
    assert_eq!(h.take_log(), ["delete b", "create b", "create c"]);
    {
        let world = h.world.lock().unwrap();
        assert!(
            !world.live.contains_key("id-2"),
            "the tainted object is gone"
        );
        assert_eq!(world.live.len(), 3, "nothing left behind");
    }
    let state = h.backend().load().unwrap().state;
    assert!(state.resources.values().all(|r| !r.tainted));
    let again = h.plan(CHAIN, false).await;
    assert!(again.changes.iter().all(|c| c.action == Action::NoOp));
}
