import { useState } from "preact/hooks";

/**
 * Copies the address of this view (organisation and filters) without the #token fragment: a shared
 * link never hands over the sender's access; the recipient opens it with a token of their own.
 */
export function CopyLink() {
  const [message, setMessage] = useState("");
  const copy = async () => {
    const url = location.origin + location.pathname + location.search;
    try {
      await navigator.clipboard.writeText(url);
      setMessage("Link copied (without your sign-in token).");
    } catch {
      setMessage(`Copy this link: ${url}`);
    }
  };

  return (
    <div class="copy-link">
      <button type="button" class="button link" onClick={copy}>Copy link to this view</button>
      <span class="copy-status" role="status">{message}</span>
    </div>
  );
}
