import { toAppError } from '../backend/backend';
import type { OperatorInfo, Role } from '../backend/types';
import { t } from '../i18n';
import type { Screen, ScreenContext } from '../screen';
import { field, h, showFieldErrors, tx } from '../ui/dom';
import { createOperatorBar, roleLabel } from './operatorBar';

const ADD_FIELDS = ['name', 'role', 'passphrase', 'passphraseConfirm'] as const;
const RESET_FIELDS = ['passphrase', 'passphraseConfirm'] as const;

/** One whole-number supervisor setting: its form's ids and strings, and how it is read and set. */
interface NumberSetting {
  /** Prefix of the ids and i18n keys: `${key}-title`, `${key}.title`, … */
  key: 'retention' | 'allowance';
  /** The field name the core's errors use. */
  field: string;
  /** The input's id. */
  id: string;
  /** Whether the field may be left empty (the core decides what empty means). */
  required: boolean;
  /** i18n key of the field's label. */
  label: 'retention.days' | 'allowance.mb';
  get(): Promise<number>;
  set(typed: string): Promise<number>;
  /** The banner after a save. */
  saved(value: number): string;
}

/**
 * "Người thu nhận" (supervisors): the accounts on this device, "Thêm người thu nhận",
 * "Đặt lại cụm mật khẩu" for an account whose passphrase was forgotten, and the device's
 * two supervisor settings, "Thời hạn lưu giữ" (the retention period) and "Hạn mức dữ liệu"
 * (megabytes the kit may send per day); the core checks both.
 */
export function operatorsScreen(ctx: ScreenContext): Screen {
  const bar = createOperatorBar(ctx, 'operators');
  let myId = ctx.status.operatorId;
  let operators: OperatorInfo[] = [];
  let disposed = false;

  const list = h('ul', { id: 'operator-list', class: 'operator-list', 'aria-labelledby': 'operators-title' });
  const listCard = h(
    'section',
    { class: 'card' },
    tx('h1', 'operators.title', { id: 'operators-title' }),
    tx('p', 'operators.intro', { class: 'intro' }),
    list,
  );

  // ---- add -----------------------------------------------------------------
  const name = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', required: true });
  const role = h(
    'select',
    {},
    tx('option', 'role.operator', { value: 'operator' }),
    tx('option', 'role.supervisor', { value: 'supervisor' }),
  );
  const pass = h('input', { type: 'password', autocomplete: 'new-password', required: true });
  const pass2 = h('input', { type: 'password', autocomplete: 'new-password', required: true });
  const addControls = { name, role, passphrase: pass, passphraseConfirm: pass2 };
  const addForm = h(
    'form',
    { class: 'card', novalidate: true, 'aria-labelledby': 'add-operator-title', 'data-form': 'add-operator' },
    tx('h2', 'operators.addTitle', { id: 'add-operator-title' }),
    field({ id: 'add-name', name: 'name', label: 'operators.name', control: name }),
    field({ id: 'add-role', name: 'role', label: 'operators.role', control: role }),
    field({ id: 'add-pass', name: 'passphrase', label: 'operators.pass', control: pass, hint: 'setup.passHint' }),
    field({ id: 'add-pass2', name: 'passphraseConfirm', label: 'operators.pass2', control: pass2 }),
    h('div', { class: 'actions' }, tx('button', 'operators.addSubmit', { id: 'add-operator-submit', type: 'submit', class: 'btn btn-primary' })),
  );

  // ---- reset ---------------------------------------------------------------
  let resetting: OperatorInfo | null = null;
  const resetTitle = h('h2', { id: 'reset-title' });
  const rpass = h('input', { type: 'password', autocomplete: 'new-password', required: true });
  const rpass2 = h('input', { type: 'password', autocomplete: 'new-password', required: true });
  const resetControls = { passphrase: rpass, passphraseConfirm: rpass2 };
  const resetBack = tx('button', 'common.back', { type: 'button', class: 'btn' });
  const resetForm = h(
    'form',
    { class: 'card', novalidate: true, 'aria-labelledby': 'reset-title', 'data-form': 'reset-passphrase' },
    resetTitle,
    tx('p', 'operators.resetIntro', { class: 'intro' }),
    field({ id: 'reset-pass', name: 'passphrase', label: 'passphrase.new', control: rpass, hint: 'setup.passHint' }),
    field({ id: 'reset-pass2', name: 'passphraseConfirm', label: 'passphrase.new2', control: rpass2 }),
    h('div', { class: 'actions' }, tx('button', 'passphrase.submit', { id: 'reset-submit', type: 'submit', class: 'btn btn-primary' }), resetBack),
  );
  resetForm.hidden = true;

  // ---- settings ------------------------------------------------------------
  // Text, not type=number: the field goes to the core as typed, so "1,5" or "-3" meet
  // the core's rule and its message instead of becoming an empty value here.
  const settingForm = (setting: NumberSetting): HTMLFormElement => {
    const control = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'off', required: setting.required, size: 6 });
    const k = setting.key;
    const form = h(
      'form',
      { class: 'card', novalidate: true, 'aria-labelledby': `${k}-title`, 'data-form': k },
      tx('h2', `${k}.title`, { id: `${k}-title` }),
      tx('p', `${k}.intro`, { class: 'intro' }),
      field({ id: setting.id, name: setting.field, label: setting.label, control, hint: `${k}.hint` }),
      h('div', { class: 'actions' }, tx('button', `${k}.submit`, { id: `${k}-submit`, type: 'submit', class: 'btn btn-primary' })),
    );
    const fields = [setting.field] as const;
    const load = async (): Promise<void> => {
      try {
        const got = await setting.get();
        if (!disposed) control.value = String(got);
      } catch (e) {
        if (!disposed) ctx.handleError(toAppError(e));
      }
    };
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void busyForm(form, async () => {
        ctx.banner.clear();
        try {
          const set = await setting.set(control.value);
          if (disposed) return;
          control.value = String(set);
          showFieldErrors(form, [], fields);
          ctx.banner.show('info', setting.saved(set));
        } catch (e) {
          if (disposed) return;
          const err = toAppError(e);
          showFieldErrors(form, err.fieldErrors ?? [], fields);
          ctx.handleError(err);
          control.focus();
        }
      });
    });
    void load();
    return form;
  };
  const retentionForm = settingForm({
    key: 'retention',
    id: 'retention-days',
    required: true,
    field: 'retentionDays',
    label: 'retention.days',
    get: () => ctx.backend.getRetentionDays(),
    set: (typed) => ctx.backend.setRetentionDays(typed),
    saved: (days) => t('retention.saved', { days: String(days) }),
  });
  const allowanceForm = settingForm({
    key: 'allowance',
    id: 'allowance-mb',
    required: false,
    field: 'dailyAllowanceMb',
    label: 'allowance.mb',
    get: () => ctx.backend.getDailyAllowanceMb(),
    set: (typed) => ctx.backend.setDailyAllowanceMb(typed),
    saved: (mb) => (mb === 0 ? t('allowance.savedNone') : t('allowance.saved', { mb: String(mb) })),
  });

  const el = h(
    'section',
    { class: 'main-screen', 'data-screen': 'operators' },
    bar.el,
    h('div', { class: 'main-layout' }, h('div', {}, listCard, retentionForm, allowanceForm), h('div', {}, addForm, resetForm)),
  );

  const render = (): void => {
    list.replaceChildren(
      ...operators.map((o) => {
        const me = o.id === myId;
        const reset = me
          ? null
          : tx('button', 'operators.reset', { type: 'button', class: 'btn', 'data-reset-for': o.id });
        if (reset) {
          reset.setAttribute('aria-label', t('operators.resetFor', { name: o.name }));
          reset.addEventListener('click', () => openReset(o));
        }
        return h(
          'li',
          { class: 'operator-row', 'data-operator-id': o.id, 'data-role': o.role },
          h('span', { class: 'name' }, o.name),
          me ? h('span', { class: 'you' }, ' ', t('operators.you')) : null,
          h('span', { class: 'badge role' }, roleLabel(o.role)),
          reset,
        );
      }),
    );
  };

  const load = async (): Promise<void> => {
    try {
      const got = await ctx.backend.listOperators();
      if (disposed) return;
      operators = got;
      render();
    } catch (e) {
      if (!disposed) ctx.handleError(toAppError(e));
    }
  };

  const openReset = (o: OperatorInfo): void => {
    resetting = o;
    resetTitle.textContent = t('operators.resetFor', { name: o.name });
    rpass.value = '';
    rpass2.value = '';
    showFieldErrors(resetForm, [], RESET_FIELDS);
    addForm.hidden = true;
    resetForm.hidden = false;
    ctx.banner.clear();
    rpass.focus();
  };
  const closeReset = (): void => {
    resetting = null;
    resetForm.hidden = true;
    addForm.hidden = false;
  };
  resetBack.addEventListener('click', () => {
    closeReset();
    name.focus();
  });

  const busyForm = async (form: HTMLFormElement, work: () => Promise<void>): Promise<void> => {
    if (form.getAttribute('aria-busy') === 'true') return;
    form.setAttribute('aria-busy', 'true');
    try {
      await work();
    } finally {
      form.removeAttribute('aria-busy');
    }
  };

  addForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void busyForm(addForm, async () => {
      ctx.banner.clear();
      try {
        const added = await ctx.backend.addOperator(name.value, role.value as Role, pass.value, pass2.value);
        if (disposed) return;
        for (const c of [name, pass, pass2]) c.value = '';
        role.value = 'operator';
        showFieldErrors(addForm, [], ADD_FIELDS);
        ctx.banner.show('info', t('operators.added', { name: added.name }));
        await load();
        name.focus();
      } catch (e) {
        if (disposed) return;
        const err = toAppError(e);
        const errors = err.fieldErrors ?? [];
        showFieldErrors(addForm, errors, ADD_FIELDS);
        ctx.handleError(err);
        const first = ADD_FIELDS.find((f) => errors.some((x) => x.field === f));
        (first ? addControls[first] : err.code === 'passphraseInUse' ? pass : name).focus();
      }
    });
  });

  resetForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const target = resetting;
    if (target === null) return;
    void busyForm(resetForm, async () => {
      ctx.banner.clear();
      try {
        await ctx.backend.resetPassphrase(target.id, rpass.value, rpass2.value);
        if (disposed) return;
        closeReset();
        ctx.banner.show('info', t('operators.resetDone', { name: target.name }));
        list.querySelector<HTMLElement>(`[data-reset-for="${target.id}"]`)?.focus();
      } catch (e) {
        if (disposed) return;
        const err = toAppError(e);
        const errors = err.fieldErrors ?? [];
        showFieldErrors(resetForm, errors, RESET_FIELDS);
        ctx.handleError(err);
        const first = RESET_FIELDS.find((f) => errors.some((x) => x.field === f));
        (first ? resetControls[first] : rpass).focus();
      }
    });
  });

  void load();

  return {
    el,
    focus: () => name.focus(),
    update: (status) => {
      bar.update(status);
      myId = status.operatorId;
      render();
      if (resetting) resetTitle.textContent = t('operators.resetFor', { name: resetting.name });
    },
    dispose: () => {
      disposed = true;
    },
  };
}
