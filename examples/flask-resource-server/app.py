"""A Flask API whose routes let in users signed in to Tessera.

Run it next to Tessera:

    TESSERA_URL=http://127.0.0.1:8080 python3 app.py

Settings (environment):
    TESSERA_URL            Tessera's public URL (TESSERA_PUBLIC_URL there): the exact `iss` of its tokens
    TESSERA_AUDIENCE       the `aud` to accept (TESSERA_AUDIENCE there; default TESSERA_URL)
    TESSERA_ALGORITHMS     comma-separated, some of EdDSA, ES256, RS256 (default EdDSA,ES256)
    TESSERA_JWKS_URL       where to fetch the keys (default TESSERA_URL/.well-known/jwks.json)
    INTROSPECTION_CLIENT_ID, INTROSPECTION_CLIENT_SECRET
                           optional: a service client (`tessera client create notes-api`); with it
                           every token is also checked with Tessera, so a logout applies at once
    HOST, PORT             where this app listens (default 127.0.0.1:5000; PORT=0 picks a free port)
"""
import os

from flask import Flask, jsonify, request

from tessera_auth import TesseraAuth, admin_required, current_principal, token_required

# A tiny in-memory "database", as in the tutorials: notes per user id.
notes = {}


def create_app(environ=os.environ):
    app = Flask(__name__)
    issuer = environ.get("TESSERA_URL", "http://127.0.0.1:8080")
    client_id = environ.get("INTROSPECTION_CLIENT_ID")
    client_secret = environ.get("INTROSPECTION_CLIENT_SECRET")
    TesseraAuth(
        app,
        issuer=issuer,
        audience=environ.get("TESSERA_AUDIENCE"),
        jwks_url=environ.get("TESSERA_JWKS_URL"),
        algorithms=environ.get("TESSERA_ALGORITHMS", "EdDSA,ES256").split(","),
        introspection_client=(client_id, client_secret) if client_id and client_secret else None,
    )

    @app.route("/health")
    def health():
        return jsonify({"status": "ok"})

    @app.route("/protected")
    @token_required
    def protected():
        principal = current_principal()
        return jsonify({
            "status": "success",
            "message": f"You are viewing protected content, {principal['sub']}!",
            "user_id": principal["sub"],
            "session_id": principal["sid"],
            "roles": principal["roles"],
        })

    @app.route("/notes", methods=["GET", "POST"])
    @token_required
    def my_notes():
        user_id = current_principal()["sub"]
        if request.method == "POST":
            body = request.get_json(silent=True)
            text = body.get("text") if isinstance(body, dict) else None
            if not isinstance(text, str) or not 1 <= len(text) <= 1000:
                return jsonify({"status": "error", "message": "text: 1 to 1000 characters"}), 400
            notes.setdefault(user_id, []).append(text)
        return jsonify({"notes": notes.get(user_id, [])})

    @app.route("/admin")
    @admin_required
    def admin():
        return jsonify({
            "status": "success",
            "message": f"Welcome to the admin panel, {current_principal()['sub']}!",
            "users_with_notes": len(notes),
        })

    return app


if __name__ == "__main__":
    create_app().run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "5000")))
