"""The web chat's page-wide script: what the chat's `[n]` links, the panel's suggested questions
and the upload box do in the browser. Only DOM wiring; every answer still comes from the server."""

from __future__ import annotations

import json

# Runs once per page. Clicks are caught on the document so messages and panels that Gradio
# re-renders keep working; the file check runs in the capture phase, before Gradio's own
# handler starts an upload the server would refuse with a bare "Error".
_HEAD = r"""
<script>
(() => {
  const LIMIT_BYTES = %(limit_bytes)d, LIMIT_TEXT = %(limit_text)s;

  function showMark(id) {
    const mark = document.getElementById(id);
    if (!mark) return;
    document.querySelectorAll('mark.qa-active').forEach(m => m.classList.remove('qa-active'));
    mark.classList.add('qa-active');
    // Centre it in the article box and in the window: on a phone the panel is below the chat.
    mark.scrollIntoView({block: 'center', inline: 'nearest'});
  }
  window.qaShowMark = showMark;

  function ask(question) {
    const box = document.querySelector('#qa-question textarea');
    const send = document.querySelector('#qa-send');
    if (!box || !send) return;
    box.value = question;
    box.dispatchEvent(new Event('input', {bubbles: true}));
    requestAnimationFrame(() => send.click());
    box.scrollIntoView({block: 'nearest'});
  }

  document.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target : null;
    // The chat's sanitiser drops data-* attributes: the marker is the link's own "[n]".
    const link = target && target.closest('#qa-chat .qa-chat-cite');
    const marker = link && /\[(\d+)\]/.exec(link.textContent);
    if (marker) {
      event.preventDefault();
      showMark('qa-mark-' + marker[1]);
      return;
    }
    const suggestion = target && target.closest('#qa-sources [data-question]');
    if (suggestion) ask(suggestion.dataset.question);
  });

  // The chat scrolls itself (its own autoscroll is off): a new question scrolls to the end,
  // and a new answer opens at its start, not its tail, which on a phone hid the short answer
  // and the beginning of the quote.
  function scroller(el) {
    for (let e = el.parentElement; e; e = e.parentElement) {
      const y = getComputedStyle(e).overflowY;
      if ((y === 'auto' || y === 'scroll') && e.scrollHeight > e.clientHeight) return e;
    }
    return null;
  }
  let messages = 0;
  new MutationObserver(() => {
    const all = document.querySelectorAll('#qa-chat [data-testid="bot"], #qa-chat [data-testid="user"]');
    if (all.length === messages) return;
    messages = all.length;
    const last = all[all.length - 1];
    if (!last) return;
    requestAnimationFrame(() => {
      const box = scroller(last);
      if (!box) return;
      // An answer's first line goes to the top of the chat (as far as the chat scrolls).
      const top = last.getBoundingClientRect().top - box.getBoundingClientRect().top;
      box.scrollTop = last.dataset.testid === 'bot' ? box.scrollTop + top - 8 : box.scrollHeight;
    });
  }).observe(document.documentElement, {childList: true, subtree: true});

  function say(text) {
    const upload = document.querySelector('#qa-upload');
    if (!upload) return;
    let line = document.getElementById('qa-upload-refused');
    if (!line) {
      line = document.createElement('p');
      line.id = 'qa-upload-refused';
      line.className = 'qa-refused';
      line.setAttribute('role', 'alert');
      upload.insertAdjacentElement('afterend', line);
    }
    line.textContent = text;
    line.hidden = !text;
  }

  function tooLarge(files) {
    const big = Array.from(files || []).find(f => f.size > LIMIT_BYTES);
    if (!big) return null;
    return 'Could not add ' + big.name + ': it is ' + (big.size / 1e6).toFixed(1)
      + ' MB; the limit is ' + LIMIT_TEXT + '.';
  }

  function checkPicked(event) {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== 'file' || !input.closest('#qa-upload')) return;
    if (!input.files || !input.files.length) return;
    const refusal = tooLarge(input.files);
    say(refusal || '');
    if (refusal) {
      event.stopImmediatePropagation();
      input.value = '';
    }
  }
  document.addEventListener('change', checkPicked, true);

  document.addEventListener('drop', (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target || !target.closest('#qa-upload')) return;
    const refusal = tooLarge(event.dataTransfer && event.dataTransfer.files);
    say(refusal || '');
    if (refusal) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
})();
</script>
"""

CSS = """
.qa-refused { color: var(--error-text-color, #b91c1c); font-weight: 600; margin: .4rem 0; }
.qa-chat-cite { font-size: .9em; margin: 0 .1rem; color: inherit; }
.qa-try-ask { text-align: left; border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: .15rem .5rem; margin: .15rem 0; cursor: pointer; color: inherit;
  background: var(--button-secondary-background-fill); font: inherit; }
.qa-try { list-style: none; padding-left: .4rem; }
"""


def head(limit_bytes: int) -> str:
    """The page-wide script, with the upload limit the server enforces (in bytes)."""
    return _HEAD % {"limit_bytes": limit_bytes,
                    "limit_text": json.dumps(f"{limit_bytes / 1e6:.0f} MB")}
