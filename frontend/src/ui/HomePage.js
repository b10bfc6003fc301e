// The home page: my factories and each factory's layouts, with links into the 3D workspace.
import { h, clear } from '../util/dom.js';
import { Api } from '../network/Api.js';

const STATUS_LABEL = { draft: 'Draft', in_review: 'In review', approved: 'Approved', rejected: 'Rejected', archived: 'Archived' };

export function userBar(user) {
  const logout = h('button', { class: 'ghost', testid: 'logout' }, 'Log out');
  logout.addEventListener('click', async () => {
    try {
      await Api.logout();
    } finally {
      location.assign('/login/');
    }
  });
  return h('div', { class: 'userbar' }, h('span', { class: 'user-name', testid: 'current-user' }, user ? user.username : ''), logout);
}

export async function renderHome(root, user) {
  const list = h('div', { class: 'factory-list', testid: 'factory-list' }, h('div', { class: 'muted' }, 'Loading your factories…'));
  root.append(
    h(
      'div',
      { class: 'home-page' },
      h('header', { class: 'topbar' }, h('a', { class: 'brand', href: '/' }, h('span', { class: 'logo' }), 'Industrial Metaverse'), h('div', { class: 'spacer' }), userBar(user)),
      h('main', { class: 'home-main' }, h('h1', {}, 'My factories'), list),
    ),
  );
  try {
    const factories = await Api.factories();
    clear(list);
    if (!factories.length) list.append(h('div', { class: 'empty' }, 'You are not a member of any factory yet. Ask an owner to add you.'));
    for (const f of factories) {
      const layouts = h('ul', { class: 'layout-list' }, h('li', { class: 'muted' }, 'Loading layouts…'));
      list.append(
        h(
          'section',
          { class: 'factory-card', testid: `factory-${f.slug || f.id}`, dataset: { factoryId: f.id } },
          h('div', { class: 'factory-head' }, h('h2', {}, f.name), h('span', { class: 'chip' }, f.my_role || ''), h('span', { class: 'muted' }, `${f.floor_width_m} × ${f.floor_depth_m} m`),
            // The factory's twins and asset types as an Asset Administration Shell file (docs/interfaces/aas.md).
            h('a', { href: `/api/factories/${f.id}/aas/`, download: `${f.slug || f.id}-aas.json`, class: 'aas-download', testid: `aas-download-${f.id}`,
              title: 'Download the twins and asset types as an Asset Administration Shell (AAS V3.0) environment' }, 'AAS ⤓')),
          f.description ? h('p', { class: 'muted' }, f.description) : null,
          layouts,
        ),
      );
      Api.layouts(f.id)
        .then((items) => {
          clear(layouts);
          if (!items.length) layouts.append(h('li', { class: 'muted' }, 'No layouts yet.'));
          for (const l of items) {
            const baseline = f.baseline_layout === l.id;
            layouts.append(
              h(
                'li',
                {},
                h('a', { href: `/layouts/${l.id}/`, testid: `layout-link-${l.id}`, class: 'layout-link' }, l.name),
                h('span', { class: `chip status-${l.status}` }, STATUS_LABEL[l.status] || l.status),
                baseline ? h('span', { class: 'chip baseline' }, 'Baseline') : null,
                h('span', { class: 'muted small' }, `rev ${l.revision}`),
              ),
            );
          }
        })
        .catch((err) => {
          clear(layouts);
          layouts.append(h('li', { class: 'form-error' }, err.message));
        });
    }
  } catch (err) {
    clear(list);
    list.append(h('div', { class: 'form-error' }, err.message));
  }
}
