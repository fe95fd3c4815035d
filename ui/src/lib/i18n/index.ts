export { applyI18n, getLang, isLang, onLangChange, setLang, storedLang, t, STORAGE_KEY } from './i18n';
export type { MessageKey } from './i18n';
