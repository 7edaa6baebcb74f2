//! `signet.v1.UserPoolAdmin`, app clients and their secrets.

use super::in_pool;
use crate::api::grpc::convert as cv;
use crate::pools::{ClientInput, HostedInput};
use crate::Gateway;
use signet_proto::v1 as pb;
use tonic::Status;

pub(super) async fn create_user_pool_client(
    gw: &Gateway,
    r: pb::CreateUserPoolClientRequest,
) -> Result<pb::UserPoolClientResponse, Status> {
    let (c, secret) = gw
        .clients
        .create_client(&r.user_pool_id, cv::client_input_create(&r))
        .await?;
    Ok(pb::UserPoolClientResponse {
        user_pool_client: Some(cv::client(&c, secret)),
    })
}

pub(super) async fn describe_user_pool_client(
    gw: &Gateway,
    r: pb::ClientRef,
) -> Result<pb::UserPoolClientResponse, Status> {
    let c = gw
        .clients
        .describe_client(&r.user_pool_id, &r.client_id)
        .await?;
    Ok(pb::UserPoolClientResponse {
        user_pool_client: Some(cv::client(&c, None)),
    })
}

pub(super) async fn update_user_pool_client(
    gw: &Gateway,
    r: pb::UpdateUserPoolClientRequest,
) -> Result<pb::UserPoolClientResponse, Status> {
    let current = gw
        .clients
        .describe_client(&r.user_pool_id, &r.client_id)
        .await?;
    let keep = |given: &Vec<String>, now: Vec<String>| {
        if given.is_empty() {
            now
        } else {
            given.clone()
        }
    };
    let input = ClientInput {
        name: r.client_name.clone().unwrap_or_default(),
        generate_secret: false,
        secret: None,
        auth_flows: keep(
            &r.explicit_auth_flows,
            current
                .auth_flows
                .iter()
                .map(|f| f.name().to_string())
                .collect(),
        ),
        access_s: if r.access_token_validity_seconds == 0 {
            current.validity.access_s
        } else {
            r.access_token_validity_seconds
        },
        id_s: if r.id_token_validity_seconds == 0 {
            current.validity.id_s
        } else {
            r.id_token_validity_seconds
        },
        refresh_s: if r.refresh_token_validity_seconds == 0 {
            current.validity.refresh_s
        } else {
            r.refresh_token_validity_seconds
        },
        read_attributes: keep(&r.read_attributes, current.read_attributes.clone()),
        write_attributes: keep(&r.write_attributes, current.write_attributes.clone()),
        refresh_token_rotation: r
            .enable_refresh_token_rotation
            .unwrap_or(current.refresh_token_rotation),
        retry_grace_s: r
            .retry_grace_period_seconds
            .unwrap_or(current.refresh_retry_grace_s),
        oauth_flows: if r.clear_oauth {
            vec![]
        } else {
            keep(
                &r.allowed_oauth_flows,
                current
                    .oauth_flows
                    .iter()
                    .map(|f| f.name().to_string())
                    .collect(),
            )
        },
        oauth_scopes: if r.clear_oauth {
            vec![]
        } else {
            keep(&r.allowed_oauth_scopes, current.oauth_scopes.clone())
        },
        hosted: if r.clear_oauth {
            HostedInput::default()
        } else {
            HostedInput {
                callback_urls: keep(&r.callback_urls, current.callback_urls.clone()),
                logout_urls: keep(&r.logout_urls, current.logout_urls.clone()),
                default_redirect_uri: r
                    .default_redirect_uri
                    .clone()
                    .or(current.default_redirect_uri.clone())
                    .unwrap_or_default(),
                identity_providers: keep(
                    &r.supported_identity_providers,
                    current.identity_providers.clone(),
                ),
            }
        },
        disabled: r.disabled.unwrap_or(current.disabled),
    };
    let c = gw
        .clients
        .update_client(&r.user_pool_id, &r.client_id, input)
        .await?;
    Ok(pb::UserPoolClientResponse {
        user_pool_client: Some(cv::client(&c, None)),
    })
}

pub(super) async fn add_user_pool_client_secret(
    gw: &Gateway,
    r: pb::AddUserPoolClientSecretRequest,
) -> Result<pb::ClientSecretDescriptorType, Status> {
    let given = Some(r.client_secret.as_str()).filter(|s| !s.is_empty());
    let (id, value, at) = gw
        .clients
        .add_client_secret(&r.user_pool_id, &r.client_id, given)
        .await?;
    Ok(pb::ClientSecretDescriptorType {
        client_secret_id: id,
        client_secret_value: value,
        client_secret_create_date: at as i64,
    })
}

pub(super) async fn list_user_pool_client_secrets(
    gw: &Gateway,
    r: pb::ClientRef,
) -> Result<pb::ListUserPoolClientSecretsResponse, Status> {
    let secrets = gw
        .clients
        .list_client_secrets(&r.user_pool_id, &r.client_id)
        .await?;
    Ok(pb::ListUserPoolClientSecretsResponse {
        client_secrets: secrets
            .into_iter()
            .map(|(id, at)| pb::ClientSecretDescriptorType {
                client_secret_id: id,
                client_secret_value: String::new(),
                client_secret_create_date: at as i64,
            })
            .collect(),
    })
}

pub(super) async fn delete_user_pool_client_secret(
    gw: &Gateway,
    r: pb::ClientSecretRef,
) -> Result<pb::Empty, Status> {
    gw.clients
        .delete_client_secret(&r.user_pool_id, &r.client_id, &r.client_secret_id)
        .await?;
    Ok(pb::Empty {})
}

pub(super) async fn delete_user_pool_client(
    gw: &Gateway,
    r: pb::ClientRef,
) -> Result<pb::Empty, Status> {
    gw.clients
        .delete_client(&r.user_pool_id, &r.client_id)
        .await?;
    Ok(pb::Empty {})
}

pub(super) async fn list_user_pool_clients(
    gw: &Gateway,
    r: pb::ListInPoolRequest,
) -> Result<pb::ListUserPoolClientsResponse, Status> {
    let (pool_id, after, limit) = in_pool(&r);
    let (clients, next) = gw.clients.list_clients(pool_id, after, limit).await?;
    Ok(pb::ListUserPoolClientsResponse {
        user_pool_clients: clients.iter().map(|c| cv::client(c, None)).collect(),
        next_token: next.unwrap_or_default(),
    })
}
