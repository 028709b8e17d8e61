//! Where a session reaches AWS: the providers, and the built-ins that need a call. A trait, so
//! engine tests run the very same session against fake providers.

use async_trait::async_trait;
use providers::aws::AwsContext;
use providers::{ProviderError, Registry};

/// The providers of a session and the account they act in.
#[async_trait]
pub trait Cloud: Send + Sync {
    /// The provider of every resource type.
    fn registry(&self) -> &Registry;
    /// The region resources are made in (`aws.region`).
    fn region(&self) -> String;
    /// The account id (`aws.account_id`), read only when a stack references it.
    async fn account_id(&self) -> Result<String, ProviderError>;
}

/// AWS through the SDK, with clients built from one configuration.
pub struct AwsCloud {
    ctx: AwsContext,
    registry: Registry,
}

impl AwsCloud {
    pub fn new(ctx: AwsContext) -> AwsCloud {
        let registry = providers::aws_registry(&ctx);
        AwsCloud { ctx, registry }
    }

    pub fn context(&self) -> &AwsContext {
        &self.ctx
    }
}

#[async_trait]
impl Cloud for AwsCloud {
    fn registry(&self) -> &Registry {
        &self.registry
    }

    fn region(&self) -> String {
        self.ctx.region()
    }

    async fn account_id(&self) -> Result<String, ProviderError> {
        self.ctx.account_id().await
    }
}
