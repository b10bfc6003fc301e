// The /login/ page: username + password against POST /api/auth/login/, then ?next= or /.
import { h } from '../util/dom.js';
import { Api } from '../network/Api.js';

function safeNext() {
  const next = new URLSearchParams(location.search).get('next') || '/';
  return next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export function renderLogin(root) {
  const error = h('div', { class: 'form-error', role: 'alert', testid: 'login-error' });
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, testid: 'login-username' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true, testid: 'login-password' });
  const button = h('button', { type: 'submit', class: 'primary', testid: 'login-submit' }, 'Sign in');
  const form = h(
    'form',
    { class: 'login-card', testid: 'login-form' },
    h('div', { class: 'brand' }, h('span', { class: 'logo' }), h('span', {}, 'Industrial Metaverse')),
    h('p', { class: 'muted' }, 'Walk, simulate and review your plant together.'),
    h('label', {}, 'Username', username),
    h('label', {}, 'Password', password),
    error,
    button,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    button.disabled = true;
    try {
      await Api.login(username.value.trim(), password.value);
      location.assign(safeNext());
    } catch (err) {
      error.textContent = err.status === 400 || err.status === 401 || err.status === 403 ? err.message || 'Wrong username or password.' : err.message;
      button.disabled = false;
    }
  });
  root.append(h('div', { class: 'login-page' }, form));
  username.focus();
}
