//! Engine tests against a fake in-memory provider: ordering, replacement order, failure
//! mid-apply, interruption and recovery. No AWS, no emulator: these pin the engine's rules.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use planner::executor::{adopt_pending, apply, ApplyOptions, NoEvents};
use planner::{make_plan, Action, Plan, PlanInput};
use providers::{
    CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest, Registry,
    Resource, UpdateRequest,
};
use stacks::{Catalog, Kind, Map, NameRule, Prop, TypeSchema, Value};
use state::{Backend, Intent, LocalBackend};
use tokio::sync::watch;

/// The fake type: `name` and `forced` replace, `value` and `note` update in place; `note` is
/// cleared when taken out of the stack, `value` is then no longer managed.
fn schema() -> TypeSchema {
    TypeSchema {
        type_name: "test.thing",
        props: vec![
            Prop::new("name", Kind::String).force_new(),
            Prop::new("forced", Kind::String).force_new(),
            Prop::new("value", Kind::String),
            Prop::new("note", Kind::String).resettable(),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["arn", "id"],
        taggable: false,
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

struct Harness {
    dir: tempfile::TempDir,
    world: Arc<Mutex<World>>,
    registry: Registry,
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
            registry,
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

    /// Plans against the refreshed state.
    async fn plan(&self, yaml: &str, destroy: bool) -> Plan {
        let stack = self.stack(yaml);
        let loaded = self.backend().load().unwrap();
        let refreshed = planner::refresh::refresh(&loaded.state, &self.registry)
            .await
            .unwrap();
        make_plan(PlanInput {
            stack: &stack,
            state: &loaded.state,
            refreshed: Some(&refreshed),
            catalog: &self.catalog,
            builtins: BTreeMap::new(),
            destroy,
            targets: vec![],
        })
        .unwrap()
    }

    async fn apply_plan(&self, plan: &Plan) -> planner::ApplyOutcome {
        let backend = self.backend();
        let lock = backend.lock("apply", std::time::Duration::ZERO).unwrap();
        let loaded = backend.load().unwrap();
        let recorder = Arc::new(Mutex::new(backend.recorder(&lock, loaded).unwrap()));
        let (_tx, rx) = watch::channel(false);
        let outcome = apply(
            plan,
            &self.registry,
            recorder.clone(),
            &ApplyOptions::default(),
            Arc::new(NoEvents),
            rx,
        )
        .await;
        let recorder = Arc::try_unwrap(recorder)
            .ok()
            .unwrap()
            .into_inner()
            .unwrap();
        recorder.finish().unwrap();
        outcome
    }

    async fn apply(&self, yaml: &str) -> planner::ApplyOutcome {
        let plan = self.plan(yaml, false).await;
        self.apply_plan(&plan).await
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
            ("a".to_string(), Action::Replace),
            ("b".to_string(), Action::Replace),
            ("c".to_string(), Action::Replace)
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
    let backend = h.backend();
    let lock = backend.lock("apply", std::time::Duration::ZERO).unwrap();
    let recorder = Arc::new(Mutex::new(
        backend.recorder(&lock, backend.load().unwrap()).unwrap(),
    ));
    let (tx, rx) = watch::channel(false);
    let registry = h.registry.clone();
    let rec = recorder.clone();
    let task = tokio::spawn(async move {
        apply(
            &plan,
            &registry,
            rec,
            &ApplyOptions::default(),
            Arc::new(NoEvents),
            rx,
        )
        .await
    });
    // Ctrl-C while `a` is being created.
    tokio::time::sleep(Duration::from_millis(50)).await;
    tx.send(true).unwrap();
    let outcome = task.await.unwrap();
    assert!(outcome.interrupted);
    assert_eq!(
        outcome.created, 1,
        "the running create finished and was counted"
    );
    let recorder = Arc::try_unwrap(recorder)
        .ok()
        .unwrap()
        .into_inner()
        .unwrap();
    recorder.finish().unwrap();
    drop(lock);
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
}

#[tokio::test]
async fn a_crash_between_create_and_record_is_adopted_on_the_next_run_never_duplicated() {
    let h = Harness::new();
    let stack = h.stack(CHAIN);
    // Simulate: the intent is recorded, the create call succeeds, the process dies before
    // the state write.
    {
        let backend = h.backend();
        let lock = backend.lock("apply", std::time::Duration::ZERO).unwrap();
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
        let fake = h.registry.get("test.thing").unwrap().clone();
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
    let loaded = backend.load().unwrap();
    assert_eq!(loaded.pending_intents.len(), 1);
    let lock = backend.lock("apply", std::time::Duration::ZERO).unwrap();
    let recorder = Mutex::new(backend.recorder(&lock, loaded).unwrap());
    let adopted = adopt_pending(
        backend.load().unwrap().pending_intents,
        "demo",
        &h.registry,
        &recorder,
    )
    .await
    .unwrap();
    assert_eq!(adopted, ["a"]);
    recorder.into_inner().unwrap().finish().unwrap();
    drop(lock);
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
