// The signed-out view: log in or create an account. Errors are said at their field; the login form
// also says why the trader is here again (an expired session) when that is the case.
import { FieldMessages } from './field-messages.js';
import { wirePasswordHint } from './password-hint.js';
import { type DashboardClient, login, register } from './session.js';
import { byId, field } from './ui.js';

export function showAuth(onSignedIn: (client: DashboardClient) => void, message?: string): void {
  const view = byId('auth-view');
  const loginForm = byId<HTMLFormElement>('login-form');
  const registerForm = byId<HTMLFormElement>('register-form');
  const tabLogin = byId<HTMLButtonElement>('tab-login');
  const tabRegister = byId<HTMLButtonElement>('tab-register');
  view.hidden = false;

  const choose = (registering: boolean) => {
    loginForm.hidden = registering;
    registerForm.hidden = !registering;
    tabLogin.setAttribute('aria-pressed', String(!registering));
    tabRegister.setAttribute('aria-pressed', String(registering));
    field<HTMLInputElement>(registering ? registerForm : loginForm, 'input').focus();
  };
  tabLogin.addEventListener('click', () => choose(false));
  tabRegister.addEventListener('click', () => choose(true));
  const notice = byId('auth-notice');
  notice.textContent = message ?? '';
  notice.hidden = !message;

  const wire = (
    form: HTMLFormElement,
    run: (data: FormData) => Promise<DashboardClient>,
    explain: (messages: FieldMessages, err: unknown) => void,
  ) => {
    const messages = new FieldMessages(form, field<HTMLElement>(form, '.form-error'));
    const submit = field<HTMLButtonElement>(form, 'button[type=submit]');
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (!form.reportValidity()) return;
      messages.clearAll();
      submit.disabled = true;
      try {
        const client = await run(new FormData(form));
        form.reset();
        view.hidden = true;
        onSignedIn(client);
      } catch (err) {
        explain(messages, err);
      } finally {
        submit.disabled = false;
      }
    });
  };
  const text = (data: FormData, name: string) => String(data.get(name) ?? '');
  wire(
    loginForm,
    (d) => login(text(d, 'email').trim(), text(d, 'password')),
    (m, err) => {
      const code = (err as { code?: string }).code;
      if (code === 'UNAUTHENTICATED') m.general.textContent = 'The email or the password is wrong.';
      else m.show(err);
    },
  );
  wire(
    registerForm,
    (d) =>
      register({
        displayName: text(d, 'displayName').trim(),
        email: text(d, 'email').trim(),
        password: text(d, 'password'),
      }),
    (m, err) =>
      m.show(err, (code) =>
        code === 'CONFLICT'
          ? { field: 'email', text: 'An account with this email exists already: log in instead.' }
          : undefined,
      ),
  );
  const pw = field<HTMLInputElement>(registerForm, 'input[name=password]');
  const passwordHint = wirePasswordHint(pw, byId('pw-hint'), () => ({
    email: field<HTMLInputElement>(registerForm, 'input[name=email]').value,
    displayName: field<HTMLInputElement>(registerForm, 'input[name=displayName]').value,
  }));
  // the estimator's chunk is loaded when the form is shown, not with the page
  tabRegister.addEventListener('click', passwordHint.prepare);
  if (!registerForm.hidden) passwordHint.prepare();
}
