// Stylesheets are bundled by vite; importing one gives nothing to the script.
declare module '*.css';
