//! Requests tonic could not decode — invalid UTF-8 in a string, a truncated varint, a frame
//! cut short, a message over the size limit — are the caller's fault, but tonic answers
//! them INTERNAL or OUT_OF_RANGE without an exception name. This layer rewrites those
//! answers as the API's own InvalidParameterException, through the one `AppError` →
//! `Status` mapping, so clients see a client error with a Cognito exception name.

use crate::AppError;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tonic::{Code, Status};

/// Wraps the gRPC routes (see the module doc).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DecodeErrorsLayer {
    /// The services' message size limit (named in the answer to a larger message).
    pub(crate) max_message_bytes: usize,
}

impl<S> tower::Layer<S> for DecodeErrorsLayer {
    type Service = DecodeErrors<S>;

    fn layer(&self, inner: S) -> DecodeErrors<S> {
        DecodeErrors {
            max_message_bytes: self.max_message_bytes,
            inner,
        }
    }
}

/// The service [`DecodeErrorsLayer`] builds.
#[derive(Debug, Clone)]
pub(crate) struct DecodeErrors<S> {
    max_message_bytes: usize,
    inner: S,
}

impl<S, Req, B> tower::Service<Req> for DecodeErrors<S>
where
    S: tower::Service<Req, Response = http::Response<B>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<B>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<http::Response<B>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let fut = self.inner.call(req);
        let max = self.max_message_bytes;
        Box::pin(async move {
            let mut res = fut.await?;
            if let Some(e) =
                Status::from_header_map(res.headers()).and_then(|s| client_error(&s, max))
            {
                let status: Status = e.into();
                // Overwrites grpc-status and grpc-message, adds the details.
                if status.add_header(res.headers_mut()).is_err() {
                    tracing::warn!("could not rewrite an undecodable request's status");
                }
            }
            Ok(res)
        })
    }
}

/// The API error for a status tonic produced while decoding a request, if it is one.
/// Statuses of our handlers always carry details (the exception name), so a status
/// without details came from tonic itself; INTERNAL and OUT_OF_RANGE there are decoding.
fn client_error(s: &Status, max_message_bytes: usize) -> Option<AppError> {
    if !s.details().is_empty() {
        return None;
    }
    match s.code() {
        Code::OutOfRange => Some(AppError::invalid(format!(
            "The request is larger than {} KiB.",
            max_message_bytes / 1024
        ))),
        Code::Internal => Some(AppError::invalid(format!(
            "The request could not be decoded: {}",
            s.message()
        ))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_detail_less_decoding_statuses_are_rewritten() {
        let decode = Status::internal("failed to decode Protobuf message: invalid utf-8");
        let e = client_error(&decode, 256 * 1024).expect("rewritten");
        assert_eq!(e.name(), "InvalidParameterException");
        let big = Status::out_of_range("Error, decoded message length too large");
        assert_eq!(
            client_error(&big, 256 * 1024).map(|e| e.code()),
            Some(Code::InvalidArgument)
        );
        let ours: Status = AppError::Internal("bug".into()).into();
        assert!(
            client_error(&ours, 256 * 1024).is_none(),
            "a handler's INTERNAL stays INTERNAL"
        );
        assert!(client_error(&Status::unimplemented("no such method"), 256 * 1024).is_none());
    }
}
