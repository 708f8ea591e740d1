import { OneTimeSecret } from "../ui/one-time-secret.tsx";

/** A password the server generated, shown this once (it is stored only as a hash). */
export function OneTimePassword({ username, password, title }: { username: string; password: string; title: string }) {
  return (
    <OneTimeSecret
      title={title}
      help={`Copy it now and give it to ${username} over a safe channel. It is shown only this once: OpsConductor keeps a hash of it, not the password.`}
      label="Generated password"
      copyLabel="Copy password"
      noun="the password"
      value={password}
    />
  );
}
