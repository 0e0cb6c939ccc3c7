//! kubectl's own words, verbatim, where more than one module quotes them (a finding quotes
//! what the user saw; a message used by one rule stays in that rule's file).

/// What `kubectl get` prints when the API server rejects the client certificate (a real
/// kube-apiserver verifies it after the handshake, so an expired one just does not
/// authenticate). With a warm discovery cache, or `kubectl get --raw`, the parenthesis says
/// `(Unauthorized)` instead.
pub const KUBECTL_UNAUTHORIZED: &str =
    "You must be logged in to the server (the server has asked for the client to provide credentials)";
