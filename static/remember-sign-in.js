// Channel Trials: keep the sign-in token the app just issued in this browser, so the next
// page load (a reload, a link in a new tab) is signed in too. Loaded from the app's own
// address (a content policy that allows only 'self' scripts lets it run); the token comes
// in the script element's data-token attribute. The server keeps only the token's SHA-256
// and forgets it on sign-out (ui/sign_in.py).
(function () {
  var script = document.currentScript;
  var token = script && script.getAttribute("data-token");
  var seconds = Number(script && script.getAttribute("data-max-age"));
  if (!token || !/^[A-Za-z0-9_-]{20,100}$/.test(token) || !(seconds > 0)) return;
  var secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie =
    "channel_trials_session=" + token + "; path=/; max-age=" + Math.floor(seconds) +
    "; SameSite=Strict" + secure;
})();
