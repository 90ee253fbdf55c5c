// The module the HMR scenario edits: self-accepting, so Vite swaps it in place
// without reloading the page. The suite rewrites GREETING in a copy of this
// directory, never in the repository.
export const GREETING = 'greeting v1';

document.querySelector('#greeting').textContent = GREETING;
window.e2eGreetingRuns = (window.e2eGreetingRuns ?? 0) + 1;

if (import.meta.hot) import.meta.hot.accept();
