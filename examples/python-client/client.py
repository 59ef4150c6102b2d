"""A Python client for Tessera, written like the tutorials' `requests` client: register, sign in,
call a protected route, refresh the tokens, sign out.

    TESSERA_URL=http://127.0.0.1:8080 python3 client.py alice

The password is read from TESSERA_PASSWORD, or asked for. Tessera wants at least 15 characters
and refuses common ones, so "password123" will not do; a few words will ("correct horse battery
staple" is taken by now, pick your own). RESOURCE_URL, when set, is a protected route of another
service to call with the access token (for example the Flask example's http://127.0.0.1:5000/protected).

Tokens are secrets: this client never prints them. The access token lives 10 minutes; the refresh
token gets a new pair and is spent by doing so, so always keep the refresh token of the last answer.
"""
import getpass
import os
import sys

import requests

BASE_URL = os.environ.get("TESSERA_URL", "http://127.0.0.1:8080").rstrip("/")
# Every call has an end: a Tessera that stops answering must not hang the client.
TIMEOUT_SECONDS = 10


def problem_code(response):
    """The stable `code` of a Tessera error answer (application/problem+json), e.g. "username_taken"."""
    try:
        return response.json().get("code")
    except ValueError:
        return None


def register(username, password):
    """Create an account. True when it was created, False when the name is taken."""
    response = requests.post(
        f"{BASE_URL}/v1/auth/register",
        json={"username": username, "password": password},
        timeout=TIMEOUT_SECONDS,
    )
    if response.status_code == 201:
        return True
    if problem_code(response) == "username_taken":
        return False
    raise RuntimeError(f"registration refused: {response.status_code} {problem_code(response)}")


def login(username, password):
    """Sign in. Returns the tokens (a dict: access_token, refresh_token, session_id, …) or None."""
    response = requests.post(
        f"{BASE_URL}/v1/auth/login",
        json={"username": username, "password": password},
        timeout=TIMEOUT_SECONDS,
    )
    if response.status_code == 200:
        return response.json()
    if response.status_code == 429:
        print(f"Too many attempts: wait {response.headers.get('Retry-After', '?')} s")
    return None


def refresh(tokens):
    """Trade the refresh token for a new pair, in place. False when the session has ended."""
    response = requests.post(
        f"{BASE_URL}/v1/auth/refresh",
        json={"refresh_token": tokens["refresh_token"]},
        timeout=TIMEOUT_SECONDS,
    )
    if response.status_code != 200:
        return False
    tokens.update(response.json())
    return True


def get_protected(tokens, url):
    """GET a protected route with the access token; refreshes once if it has expired."""
    response = requests.get(url, headers=bearer(tokens), timeout=TIMEOUT_SECONDS)
    if response.status_code == 401 and refresh(tokens):
        response = requests.get(url, headers=bearer(tokens), timeout=TIMEOUT_SECONDS)
    return response


def logout(tokens):
    """End the session: its access and refresh tokens stop working at Tessera at once."""
    response = requests.post(f"{BASE_URL}/v1/auth/logout", headers=bearer(tokens), timeout=TIMEOUT_SECONDS)
    return response.status_code == 204


def bearer(tokens):
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def main(username):
    password = os.environ.get("TESSERA_PASSWORD") or getpass.getpass(f"Password for {username}: ")

    print("=== Registering ===")
    print("Created" if register(username, password) else "The name is taken; signing in to it")

    print("\n=== Signing in ===")
    tokens = login(username, password)
    if tokens is None:
        print("Invalid credentials")
        return 1
    print(f"Session {tokens['session_id']}; the access token lives {tokens['expires_in']} s")

    print("\n=== Accessing a protected route: who am I ===")
    me = get_protected(tokens, f"{BASE_URL}/v1/me")
    print(f"{me.status_code}: {me.json()['user']['username']} with roles {me.json()['user']['roles']}")

    resource_url = os.environ.get("RESOURCE_URL")
    if resource_url:
        print(f"\n=== Accessing {resource_url} ===")
        resource = get_protected(tokens, resource_url)
        print(f"{resource.status_code}: {resource.json()}")

    print("\n=== Refreshing ===")
    print("New tokens (the old refresh token is spent)" if refresh(tokens) else "The session has ended")
    print(f"Still signed in: {get_protected(tokens, f'{BASE_URL}/v1/me').status_code}")

    print("\n=== Signing out ===")
    print("Signed out" if logout(tokens) else "Already signed out")
    after = requests.get(f"{BASE_URL}/v1/me", headers=bearer(tokens), timeout=TIMEOUT_SECONDS)
    print(f"The old access token now gets {after.status_code} ({problem_code(after)})")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: client.py USERNAME", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
