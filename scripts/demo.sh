#!/usr/bin/env bash
# The README's first command: installs what is missing, builds Tessera, creates a demo project on
# SQLite (once), prints its credentials and a curl walk-through, then runs the server in the
# foreground on 127.0.0.1:8080 (Ctrl-C stops it cleanly).
#
# Environment: TESSERA_DEMO_DIR (default ./demo), TESSERA_DEMO_LISTEN (default 127.0.0.1:8080).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
demo_dir=${TESSERA_DEMO_DIR:-$root/demo}
listen=${TESSERA_DEMO_LISTEN:-127.0.0.1:8080}

scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target tessera

mkdir -p "$demo_dir"
db="sqlite:$demo_dir/tessera.db"
creds="$demo_dir/credentials.json"
if [ ! -s "$creds" ]; then
  # The secret is printed once by Tessera; keep it (owner-only) so reruns can show it again.
  (umask 077 && build/tessera projects create --name "Demo" --database "$db" --json >"$creds.tmp")
  mv "$creds.tmp" "$creds"
fi
project_id=$(sed -E 's/.*"project_id":"([^"]+)".*/\1/' "$creds")
secret=$(sed -E 's/.*"secret":"([^"]+)".*/\1/' "$creds")
base="http://$listen"
mail_dir="$demo_dir/mail"
# Where emailed links point (a real app's page that reads ?token=); added again harmlessly on reruns.
for type in login signup invite reset_password; do
  build/tessera redirect-urls add --project "$project_id" --type "$type" \
    --url "http://localhost:3000/authenticate" --default --database "$db" >/dev/null
done

cat <<EOT

Tessera demo project (stored in $demo_dir; credentials in $creds)
  project_id: $project_id
  secret:     $secret

Walk-through (paste into another terminal while the server below runs):

  AUTH='$project_id:$secret'
  # 1. Create a password user with a 60-minute session (a second run answers duplicate_email)
  curl -s -u "\$AUTH" $base/v1/passwords \\
    -d '{"email":"ada@example.com","password":"correct horse battery staple","session_duration_minutes":60}'
  # 2. Sign in: a new session; keep its token and JWT
  LOGIN=\$(curl -s -u "\$AUTH" $base/v1/passwords/authenticate \\
    -d '{"email":"ada@example.com","password":"correct horse battery staple","session_duration_minutes":60}')
  TOKEN=\$(echo "\$LOGIN" | sed -E 's/.*"session_token":"([^"]*)".*/\\1/')
  JWT=\$(echo "\$LOGIN" | sed -E 's/.*"session_jwt":"([^"]*)".*/\\1/')
  # 3. Authenticate the session by token, then by JWT (each answer carries a current JWT)
  curl -s -u "\$AUTH" $base/v1/sessions/authenticate -d "{\\"session_token\\":\\"\$TOKEN\\"}"
  curl -s -u "\$AUTH" $base/v1/sessions/authenticate -d "{\\"session_jwt\\":\\"\$JWT\\"}"
  # 4. The public keys that verify the JWT locally (no credentials needed)
  curl -s $base/v1/sessions/jwks/$project_id
  # 5. Revoke the session; authenticating it again answers 404 session_not_found
  curl -s -u "\$AUTH" $base/v1/sessions/revoke -d "{\\"session_token\\":\\"\$TOKEN\\"}"
  curl -s -u "\$AUTH" $base/v1/sessions/authenticate -d "{\\"session_token\\":\\"\$TOKEN\\"}"
  # 6. Email sign-in: a magic link, delivered as a file in $mail_dir (--smtp-url file:DIR;
  #    a real relay is --smtp-url smtp://user:pass@host:587, see docs/email.md)
  curl -s -u "\$AUTH" $base/v1/magic_links/email/login_or_create -d '{"email":"grace@example.com"}'
  sleep 1; LINK=\$(grep -ho 'http://localhost:3000/authenticate?[^ ]*' \$(ls -t $mail_dir/*.eml | head -1) | head -1 | tr -d '\\r')
  echo "\$LINK"      # what the email asks Grace to open
  ML_TOKEN=\$(echo "\$LINK" | sed -E 's/.*token=//; s/%3D/=/g')
  curl -s -u "\$AUTH" $base/v1/magic_links/authenticate \\
    -d "{\\"token\\":\\"\$ML_TOKEN\\",\\"session_duration_minutes\\":60}"
  # 7. The same link again answers 401 unable_to_auth_magic_link: a link works once
  curl -s -u "\$AUTH" $base/v1/magic_links/authenticate -d "{\\"token\\":\\"\$ML_TOKEN\\"}"

Starting the server on $base (Ctrl-C to stop) ...
EOT
exec build/tessera serve --database "$db" --listen "$listen" --smtp-url "file:$mail_dir" \
  --email-from 'Tessera Demo <demo@localhost>'
