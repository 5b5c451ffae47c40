/** Shown without a valid token: no events, only what to do. */
export function SignIn() {
  return (
    <main class="signin" aria-labelledby="signin-title">
      <div class="signin-card" role="alert">
        <h1 id="signin-title">Sign in to view the audit log</h1>
        <p>
          This link has expired or is not valid for this organisation. Open <strong>Settings › Audit Log</strong> in
          Outsprint again to get a fresh link.
        </p>
      </div>
    </main>
  );
}
