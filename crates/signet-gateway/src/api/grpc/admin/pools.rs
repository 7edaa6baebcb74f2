//! `signet.v1.UserPoolAdmin`, user pools: CreateUserPool, DescribeUserPool, UpdateUserPool, DeleteUserPool, ListUserPools.

use super::pool_out;
use crate::api::grpc::convert as cv;
use crate::pools::PoolInput;
use crate::Gateway;
use signet_proto::v1 as pb;
use tonic::Status;

pub(super) async fn create_user_pool(
    gw: &Gateway,
    r: pb::CreateUserPoolRequest,
) -> Result<pb::UserPoolResponse, Status> {
    let p = gw.pools.create_user_pool(cv::pool_input(&r)?).await?;
    Ok(pool_out(gw, &p))
}

pub(super) async fn describe_user_pool(
    gw: &Gateway,
    r: pb::UserPoolRef,
) -> Result<pb::UserPoolResponse, Status> {
    let p = gw.pools.describe_user_pool(&r.user_pool_id).await?;
    Ok(pool_out(gw, &p))
}

pub(super) async fn update_user_pool(
    gw: &Gateway,
    r: pb::UpdateUserPoolRequest,
) -> Result<pb::UserPoolResponse, Status> {
    let current = gw.pools.describe_user_pool(&r.user_pool_id).await?;
    let mut config = current.config.clone();
    if r.password_policy.is_some() {
        config.password_policy = cv::policy(&r.password_policy);
    }
    if !r.auto_verified_attributes.is_empty() {
        config.auto_verified_attributes = r.auto_verified_attributes.clone();
    }
    if r.clear_pre_token_generation {
        config.pre_token_generation = None;
    } else if let Some(h) = &r.pre_token_generation {
        config.pre_token_generation = Some(cv::hook_in(h));
    }
    if let Some(l) = &r.lambda_config {
        config.triggers = Box::new(cv::triggers_in(l));
    }
    if r.clear_device_configuration {
        config.devices = None;
    } else if let Some(d) = &r.device_configuration {
        config.devices = Some(cv::device_config_in(d));
    }
    if r.clear_ui_customization {
        config.ui = None;
    } else if let Some(u) = &r.ui_customization {
        config.ui = Some(cv::ui_in(u));
    }
    if let Some(v) = r.prevent_user_existence_errors {
        config.prevent_user_existence_errors = v;
    }
    if let Some(v) = r.deletion_protection {
        config.deletion_protection = v;
    }
    if let Some(v) = r.admin_create_user_only {
        config.admin_create_user_only = v;
    }
    let input = PoolInput {
        name: r.pool_name.unwrap_or(current.name),
        config,
    };
    let p = gw.pools.update_user_pool(&r.user_pool_id, input).await?;
    Ok(pool_out(gw, &p))
}

pub(super) async fn delete_user_pool(
    gw: &Gateway,
    r: pb::UserPoolRef,
) -> Result<pb::Empty, Status> {
    gw.pools.delete_user_pool(&r.user_pool_id).await?;
    Ok(pb::Empty {})
}

pub(super) async fn list_user_pools(
    gw: &Gateway,
    r: pb::ListRequest,
) -> Result<pb::ListUserPoolsResponse, Status> {
    let (pools, next) = gw
        .pools
        .list_user_pools(cv::token(&r.next_token), r.max_results as usize)
        .await?;
    Ok(pb::ListUserPoolsResponse {
        user_pools: pools
            .iter()
            .map(|p| cv::pool(p, gw.config().issuer(&p.id)))
            .collect(),
        next_token: next.unwrap_or_default(),
    })
}

pub(super) async fn set_user_pool_mfa_config(
    gw: &Gateway,
    r: pb::SetUserPoolMfaConfigRequest,
) -> Result<pb::UserPoolMfaConfigResponse, Status> {
    let mode = (!r.mfa_configuration.is_empty()).then_some(r.mfa_configuration.as_str());
    let factors = crate::pools::MfaFactors {
        software_token: r.software_token_mfa_configuration.map(|c| c.enabled),
        sms: r.sms_mfa_configuration.map(|c| c.enabled),
        email: r.email_mfa_configuration.map(|c| c.enabled),
    };
    let m = gw
        .pools
        .set_mfa_config(&r.user_pool_id, mode, factors)
        .await?;
    Ok(cv::pool_mfa(&m))
}

pub(super) async fn get_user_pool_mfa_config(
    gw: &Gateway,
    r: pb::UserPoolRef,
) -> Result<pb::UserPoolMfaConfigResponse, Status> {
    let p = gw.pools.describe_user_pool(&r.user_pool_id).await?;
    Ok(cv::pool_mfa(&p.config.mfa))
}

pub(super) async fn add_custom_attributes(
    gw: &Gateway,
    r: pb::AddCustomAttributesRequest,
) -> Result<pb::Empty, Status> {
    let attrs = cv::schema(
        &r.custom_attributes,
        crate::pools::MAX_CUSTOM_ATTRIBUTES + 1,
    )?;
    gw.pools
        .add_custom_attributes(&r.user_pool_id, attrs)
        .await?;
    Ok(pb::Empty {})
}
