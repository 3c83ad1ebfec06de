/** The resend button stays disabled, counting down, until the cooldown has passed. */
export function createResendCountdown(button: HTMLButtonElement) {
  let until = 0;
  let timer: ReturnType<typeof setInterval> | undefined;

  const tick = () => {
    const remaining = Math.ceil((until - Date.now()) / 1000);
    if (remaining > 0) {
      button.disabled = true;
      button.textContent = `Resend code in ${remaining} s`;
      return;
    }
    clearInterval(timer);
    timer = undefined;
    button.disabled = false;
    button.textContent = 'Resend code';
  };

  return {
    start(seconds: number | undefined) {
      clearInterval(timer);
      until = Date.now() + Math.max(0, seconds ?? 0) * 1000;
      tick();
      if (until > Date.now()) timer = setInterval(tick, 250);
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
