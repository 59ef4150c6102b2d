"""Protect Flask routes with Tessera access tokens.

Tokens are verified offline with PyJWT against Tessera's JWKS, as Tessera's own verifier does:
the algorithm comes from a pinned list and must match the key's type, `typ` must be `at+jwt`,
issuer and audience must be exact, and exp, iat, sub, sid, client_id and jti must be present.
Optionally every token is also checked with Tessera's introspection endpoint (a service client
with HTTP Basic), so a logout, a kick or a role change applies on the very next request.

    from tessera_auth import TesseraAuth, token_required, admin_required, current_principal

    TesseraAuth(app, issuer="https://auth.example", audience="https://auth.example")

    @app.route("/me")
    @token_required
    def me():
        return {"user_id": current_principal()["sub"]}

    @app.route("/admin")
    @admin_required
    def admin_panel():
        ...
"""
import time
from functools import wraps
from urllib.parse import quote

import jwt
import requests
from flask import current_app, g, jsonify, request

# Tessera signs with one of these; HS256 and "none" can never be allowed (anyone holding the
# public key could forge an HMAC token). Which of them to accept is the app's setting.
SUPPORTED_ALGORITHMS = {"EdDSA": "OKP", "ES256": "EC", "RS256": "RSA"}
DEFAULT_ALGORITHMS = ("EdDSA", "ES256")
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "sid", "client_id", "jti"]
MAX_TOKEN_BYTES = 8192
# Tessera's access tokens live at most 15 minutes; an older one is refused whatever its exp says.
MAX_TOKEN_AGE_SECONDS = 900


class KeySetUnavailable(Exception):
    """Tessera's JWKS could not be fetched: answer 503, not 401."""


class IntrospectionUnavailable(Exception):
    """Tessera's introspection endpoint did not give an answer: answer 503, never let the token in."""


class TesseraKeySet(jwt.PyJWKClient):
    """PyJWKClient with two limits that PyJWT 2.6 (Debian 12) does not have.

    Its fetch has no timeout, so a Tessera that stops answering would hang every request; and it
    refetches the JWKS for every token naming an unknown kid, so a flood of invented kids would
    become a flood of requests to Tessera. Here fetches time out, and an unknown kid causes at
    most one refetch per cool-down (a rotated key is published long before it signs, so the
    normal refresh finds it anyway).
    """

    def __init__(self, uri, cache_seconds=300, cooldown_seconds=30, timeout_seconds=5):
        super().__init__(uri, cache_jwk_set=True, lifespan=cache_seconds)
        self.cooldown_seconds = cooldown_seconds
        self.timeout_seconds = timeout_seconds
        self.fetched_at = None

    def fetch_data(self):
        try:
            response = requests.get(self.uri, timeout=self.timeout_seconds)
            response.raise_for_status()
            jwk_set = response.json()
        except (requests.RequestException, ValueError) as error:
            raise KeySetUnavailable(f"cannot fetch {self.uri}") from error
        self.jwk_set_cache.put(jwk_set)
        self.fetched_at = time.monotonic()
        return jwk_set

    def get_signing_key(self, kid):
        signing_key = self.match_kid(self.get_signing_keys(), kid)
        cooled_down = self.fetched_at is None or time.monotonic() - self.fetched_at >= self.cooldown_seconds
        if signing_key is None and cooled_down:
            signing_key = self.match_kid(self.get_signing_keys(refresh=True), kid)
        if signing_key is None:
            raise jwt.PyJWKClientError("no published key has this kid")
        return signing_key


class TesseraAuth:
    """Holds the settings and the key set of one Flask app (`app.extensions["tessera"]`)."""

    def __init__(self, app, issuer, audience=None, jwks_url=None, algorithms=DEFAULT_ALGORITHMS,
                 leeway_seconds=5, introspection_client=None, introspection_url=None):
        unknown = [name for name in algorithms if name not in SUPPORTED_ALGORITHMS]
        if not algorithms or unknown:
            raise ValueError(f"algorithms must be some of {', '.join(SUPPORTED_ALGORITHMS)}, not {unknown}")
        self.issuer = issuer.rstrip("/")
        self.audience = audience or self.issuer
        self.algorithms = list(algorithms)
        self.leeway_seconds = leeway_seconds
        self.keys = TesseraKeySet(jwks_url or f"{self.issuer}/.well-known/jwks.json")
        # (client_id, client_secret) of a service client: `tessera client create <name>`.
        self.introspection_client = introspection_client
        self.introspection_url = introspection_url or f"{self.issuer}/v1/oauth/introspect"
        app.extensions["tessera"] = self

    def verify(self, token):
        """The claims of a valid token; raises jwt.InvalidTokenError otherwise."""
        if len(token) > MAX_TOKEN_BYTES:
            raise jwt.InvalidTokenError("token too long")
        header = jwt.get_unverified_header(token)
        algorithm = header.get("alg")
        kid = header.get("kid")
        if algorithm not in self.algorithms or not isinstance(kid, str) or not kid:
            raise jwt.InvalidTokenError("algorithm not allowed, or no kid")
        if str(header.get("typ", "")).lower() != "at+jwt":
            raise jwt.InvalidTokenError("not an access token")
        signing_key = self.keys.get_signing_key(kid)
        # The key decides the algorithm: an EdDSA key never verifies a token labelled ES256.
        if signing_key.key_type != SUPPORTED_ALGORITHMS[algorithm]:
            raise jwt.InvalidTokenError("the algorithm does not match the key")
        claims = jwt.decode(
            token,
            key=signing_key.key,
            algorithms=[algorithm],
            audience=self.audience,
            issuer=self.issuer,
            leeway=self.leeway_seconds,
            options={"require": REQUIRED_CLAIMS},
        )
        if time.time() - claims["iat"] > MAX_TOKEN_AGE_SECONDS + self.leeway_seconds:
            raise jwt.InvalidTokenError("token too old")
        roles = claims.get("roles")
        if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
            raise jwt.InvalidTokenError("roles must be a list of strings")
        return claims

    def introspect(self, token):
        """Tessera's live answer: the current roles, or None when the session has ended."""
        client_id, client_secret = self.introspection_client
        # client_secret_basic form-encodes both parts before Base64 (RFC 6749 §2.3.1).
        auth = (quote(client_id, safe=""), quote(client_secret, safe=""))
        try:
            response = requests.post(self.introspection_url, data={"token": token, "token_type_hint": "access_token"},
                                     auth=auth, timeout=3)
            response.raise_for_status()
            answer = response.json()
        except (requests.RequestException, ValueError) as error:
            raise IntrospectionUnavailable("introspection failed") from error
        if answer.get("active") is not True:
            return None
        return answer.get("roles", [])


def problem(status, code, title):
    """An application/problem+json answer, as Tessera's own errors are."""
    response = jsonify({"type": "about:blank", "title": title, "status": status, "code": code})
    response.status_code = status
    response.content_type = "application/problem+json"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"' if code == "invalid_token" else "Bearer"
    if status == 403:
        response.headers["WWW-Authenticate"] = 'Bearer error="insufficient_scope"'
    return response


def read_bearer_token():
    """The token of `Authorization: Bearer …`, or None. Never read from the URL or a cookie."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


def token_required(view):
    """Lets the request in with a valid Tessera access token (like Flask-JWT-Extended's @jwt_required())."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        auth = current_app.extensions["tessera"]
        if not request.headers.get("Authorization"):
            return problem(401, "missing_token", "Send a bearer token.")
        token = read_bearer_token()
        if token is None:
            return problem(401, "invalid_token", "The access token is not valid.")
        try:
            claims = auth.verify(token)
            if auth.introspection_client is not None:
                roles = auth.introspect(token)
                if roles is None:
                    return problem(401, "invalid_token", "The access token is no longer active.")
                claims = {**claims, "roles": roles}
        except (KeySetUnavailable, IntrospectionUnavailable):
            current_app.logger.exception("Tessera unreachable")
            return problem(503, "unavailable", "The token cannot be checked now.")
        except jwt.PyJWTError:
            # Every reason (signature, expiry, audience, unknown kid …) is one answer to the caller.
            return problem(401, "invalid_token", "The access token is not valid.")
        g.tessera_claims = claims
        return view(*args, **kwargs)
    return wrapper


def roles_required(*roles):
    """Like token_required, and the token must carry every one of `roles` (else 403)."""
    def decorator(view):
        @wraps(view)
        def check_roles(*args, **kwargs):
            held = g.tessera_claims["roles"]
            if not all(role in held for role in roles):
                return problem(403, "insufficient_role", "The token does not carry a required role.")
            return view(*args, **kwargs)
        return token_required(check_roles)
    return decorator


admin_required = roles_required("admin")


def current_principal():
    """The verified claims of the current request's token (sub, sid, roles, client_id, …)."""
    return g.tessera_claims
