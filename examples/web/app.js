// The example page's logic: the Stytch SDK pointed at Tessera, four buttons, and the session.
(() => {
  const config = window.TESSERA_CONFIG;
  // `endpoints` keeps http:// and the port as given (the documented `customBaseUrl` forces
  // https on port 443). Both URLs, since the token's kind (test or live) picks one of them.
  const client = new window.stytch.StytchClient(config.publicToken, {
    endpoints: { testAPIURL: config.tesseraUrl, liveAPIURL: config.tesseraUrl },
  });
  window.stytchClient = client; // For the browser console (and the end-to-end test).

  const $ = (id) => document.getElementById(id);
  const out = $('out');

  function show(session) {
    out.dataset.sessionId = (session && session.session_id) || '';
    out.dataset.userId = (session && session.user_id) || '';
    if (!session) {
      out.textContent = 'Signed out.';
      return;
    }
    const user = client.user.getSync();
    const email = user && user.emails && user.emails[0] ? user.emails[0].email : '';
    out.textContent = JSON.stringify(
      {
        email,
        user_id: session.user_id,
        session_id: session.session_id,
        expires_at: session.expires_at,
      },
      null,
      2,
    );
  }

  // A call's outcome: the error type Tessera sent (or the error's name), or "" on success.
  function run(promise) {
    $('error').textContent = '';
    out.dataset.error = '';
    return promise.then(
      () => {
        out.dataset.done = String(Number(out.dataset.done || 0) + 1);
      },
      (e) => {
        out.dataset.error = e.error_type || e.name || 'error';
        $('error').textContent = e.error_message || e.message || String(e);
        out.dataset.done = String(Number(out.dataset.done || 0) + 1);
      },
    );
  }

  const credentials = () => ({
    email: $('email').value,
    password: $('password').value,
    session_duration_minutes: 60,
  });
  $('signup').onclick = () => run(client.passwords.create(credentials()));
  $('login').onclick = () => run(client.passwords.authenticate(credentials()));
  $('logout').onclick = () => run(client.session.revoke());

  if (config.protectedUrl) {
    const link = document.createElement('a');
    link.href = `${config.protectedUrl}/me`;
    link.id = 'me-link';
    link.textContent = `Open the protected API (${config.protectedUrl}/me) with this session`;
    $('protected').append(link);
  }

  // The cached session at once (after a reload it comes from localStorage), then every change:
  // sign-in, sign-out, and the SDK's background refresh.
  show(client.session.getSync());
  client.session.onChange(show);
})();
