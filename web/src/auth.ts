// The signed-out view: log in or create an account.
import { type DashboardClient, login, register } from './session.js';
import { byId, describeError, field } from './ui.js';

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
  if (message) field(loginForm, '.form-error').textContent = message;

  const wire = (form: HTMLFormElement, run: (data: FormData) => Promise<DashboardClient>) => {
    const out = field<HTMLElement>(form, '.form-error');
    const submit = field<HTMLButtonElement>(form, 'button[type=submit]');
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (!form.reportValidity()) return;
      out.textContent = '';
      submit.disabled = true;
      try {
        const client = await run(new FormData(form));
        form.reset();
        view.hidden = true;
        onSignedIn(client);
      } catch (err) {
        out.textContent = describeError(err);
      } finally {
        submit.disabled = false;
      }
    });
  };
  const text = (data: FormData, name: string) => String(data.get(name) ?? '');
  wire(loginForm, (d) => login(text(d, 'email').trim(), text(d, 'password')));
  wire(registerForm, (d) =>
    register({
      displayName: text(d, 'displayName').trim(),
      email: text(d, 'email').trim(),
      password: text(d, 'password'),
    }),
  );
}
